// Distrusting a compromised CA through the real server: the bundle, login, JWT-SVIDs, the audit
// log, refusals that change nothing, and the same under an operator's upstream CA.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import { buildCsr, buildSelfSignedCa, generateKeyPair } from '../../src/x509/index.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

const POLICY = `
workloads:
  - namespace: payments
    serviceAccount: api
`;

/** An SVID obtained as a sidecar obtains it, with its key. */
interface Svid {
  readonly chainPem: string;
  readonly keyPem: string;
  readonly leaf: X509Certificate;
}

/** What every test here does against one stack. */
class Operator {
  admin = '';

  constructor(readonly stack: HallmarkStack) {}

  async start(): Promise<this> {
    this.stack.k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
    const key = (await readFile(this.stack.server.admin.file, 'utf8')).trim();
    const login = await this.stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'admin', api_key: key },
    });
    this.admin = login.body.token as string;
    return this;
  }

  /** A fresh agent: it trusts the bundle as it is now (the serving certificate may be new). */
  agent(svid?: Svid): Agent {
    return this.stack.agent(svid && { cert: svid.chainPem, key: svid.keyPem });
  }

  async svid(): Promise<Svid> {
    const keyPair = generateKeyPair('ec-p256');
    const token = await this.stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    const issued = await this.stack.call('POST', '/v1/svid/x509', {
      body: { csr: buildCsr(keyPair) },
      headers: { authorization: `Bearer ${token}` },
      dispatcher: this.agent(),
    });
    expect(issued.status).toBe(200);
    const chainPem = issued.body.svid as string;
    return {
      chainPem,
      keyPem: keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      leaf: new X509Certificate(chainPem),
    };
  }

  login(svid: Svid, dispatcher = this.agent(svid)) {
    return this.stack.call('POST', '/v1/authn/login', { body: {}, dispatcher });
  }

  jwtSvid(svid: Svid) {
    return this.stack.call('POST', '/v1/svid/jwt', {
      body: { audience: ['payments-db'] },
      dispatcher: this.agent(svid),
    });
  }

  distrust(body: unknown, token = this.admin) {
    return this.stack.call('POST', '/v1/ca/distrust', {
      body,
      headers: { authorization: `Bearer ${token}` },
      dispatcher: this.agent(),
    });
  }

  async bundle(): Promise<{ anchors: string[]; sequence: number }> {
    const { body } = await this.stack.call('GET', '/v1/bundle', { dispatcher: this.agent() });
    const keys = body.keys as { use: string; x5c?: string[] }[];
    return {
      anchors: keys.filter((k) => k.use === 'x509-svid').map((k) => k.x5c?.[0] ?? ''),
      sequence: body.spiffe_sequence as number,
    };
  }

  async audit(
    action: string,
  ): Promise<{ actor: string; target: string; outcome: string; reason: string }[]> {
    const rows = await this.stack.server.db.query<{
      actor: string;
      target: string;
      outcome: string;
      reason: string;
    }>('SELECT actor, target, outcome, reason FROM audit_log WHERE action = $1 ORDER BY seq', [
      action,
    ]);
    return rows.rows;
  }

  /** The rows of distrusts that happened (the keyring's, in the change's transaction). */
  async distrusts(): Promise<{ actor: string; target: string }[]> {
    return (await this.audit('ca.distrust'))
      .filter((row) => row.outcome === 'success' && !row.target.endsWith(' already'))
      .map(({ actor, target }) => ({ actor, target }));
  }
}

const base64Der = (pem: string): string => new X509Certificate(pem).raw.toString('base64');

describe('hallmark ca distrust against the real server', () => {
  let op: Operator;

  beforeAll(async () => {
    op = await new Operator(await startStack({ policy: POLICY, caTicker: false })).start();
  });
  afterAll(() => op?.stack.close());

  it('refuses the only usable CA, an unknown id and a non-admin, changing nothing; each refusal audited', async () => {
    const active = op.stack.server.ca.signingAuthority().id;
    const before = await op.bundle();
    const last = await op.distrust({ ca_id: active });
    expect(last).toMatchObject({ status: 409, body: { error: { code: 'ERR_CA_LAST_AUTHORITY' } } });
    const unknown = await op.distrust({ ca_id: active + 1000, rotate: true });
    expect(unknown).toMatchObject({
      status: 404,
      body: { error: { code: 'ERR_CA_UNKNOWN_AUTHORITY' } },
    });
    const appKey = await op.stack.server.authn.createApiKey({ id: 'app-1', role: 'app' });
    const app = await op.stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'app-1', api_key: appKey },
    });
    const notAdmin = await op.distrust({ ca_id: active }, app.body.token as string);
    expect(notAdmin.body.error?.code).toBe('ERR_AUTHN_NOT_ADMIN');
    expect((await op.distrust({ ca_id: 'one' })).body.error?.code).toBe('ERR_REQUEST_INVALID');

    expect(await op.bundle()).toEqual(before);
    expect(op.stack.server.ca.signingAuthority().id).toBe(active);
    expect((await op.audit('ca.distrust')).map((row) => row.reason)).toEqual([
      'ERR_CA_LAST_AUTHORITY',
      'ERR_CA_UNKNOWN_AUTHORITY',
      'ERR_AUTHN_NOT_ADMIN',
    ]);
    // A body that fails the schema is refused before the route runs, under the route's URL.
    const invalid = await op.audit('http.post');
    expect(invalid.map((row) => row.reason)).toContain('ERR_REQUEST_INVALID');
    expect(await op.distrusts()).toEqual([]);
  });

  it('distrusts the signing CA with a new one activated: bundle, login and JWT-SVIDs refuse its SVIDs', async () => {
    const compromised = op.stack.server.ca.signingAuthority().id;
    const compromisedPem = op.stack.server.ca.authorities()[0]!.certificatePem;
    const old = await op.svid();
    // A connection opened before the distrust stays open: its TLS verdict is from then.
    const kept = op.agent(old);
    expect((await op.login(old, kept)).status).toBe(200);
    expect((await op.jwtSvid(old)).status).toBe(200);
    const before = await op.bundle();
    expect(before.anchors).toEqual([base64Der(compromisedPem)]);

    const distrusted = await op.distrust({ ca_id: compromised, rotate: true });
    expect(distrusted.status).toBe(200);
    const { active_ca: activeCa, spiffe_sequence: sequence } = distrusted.body as {
      active_ca: number;
      spiffe_sequence: number;
    };
    expect(distrusted.body).toMatchObject({ distrusted_ca: compromised, changed: true });
    expect(activeCa).not.toBe(compromised);
    expect(sequence).toBeGreaterThan(before.sequence);

    const after = await op.bundle();
    expect(after.sequence).toBe(sequence);
    expect(after.anchors).not.toContain(base64Der(compromisedPem));
    expect(after.anchors).toHaveLength(1);

    expect((await op.login(old)).body.error?.code).toBe('ERR_AUTHN_CA_DISTRUSTED');
    expect((await op.login(old, kept)).body.error?.code).toBe('ERR_AUTHN_CA_DISTRUSTED');
    const jwt = await op.jwtSvid(old);
    expect(jwt).toMatchObject({
      status: 401,
      body: { error: { code: 'ERR_AUTHN_CA_DISTRUSTED' } },
    });

    const renewed = await op.svid();
    const newCa = new X509Certificate(
      op.stack.server.ca.authorities().find((ca) => ca.id === activeCa)!.certificatePem,
    );
    expect(renewed.leaf.verify(newCa.publicKey)).toBe(true);
    expect((await op.login(renewed)).status).toBe(200);
    expect((await op.jwtSvid(renewed)).status).toBe(200);

    expect(await op.distrusts()).toEqual([{ actor: 'key:admin', target: `ca:${compromised}` }]);
    const refusals = (await op.audit('authn.login')).filter((r) => r.outcome === 'denied');
    expect(refusals.map((r) => r.reason)).toContain('ERR_AUTHN_CA_DISTRUSTED');
  });

  it('lists the CAs with the distrusted one, and a repeat changes nothing', async () => {
    const list = await op.stack.call('GET', '/v1/ca/authorities', {
      headers: { authorization: `Bearer ${op.admin}` },
      dispatcher: op.agent(),
    });
    const authorities = list.body.authorities as { id: number; status: string }[];
    expect(authorities.map((ca) => ca.status)).toEqual(['distrusted', 'active']);
    const sequence = (await op.bundle()).sequence;
    const again = await op.distrust({ ca_id: authorities[0]!.id });
    expect(again).toMatchObject({
      status: 200,
      body: { changed: false, spiffe_sequence: sequence },
    });
    // The repeat is audited as a request that changed nothing, not as a second distrust.
    expect(await op.distrusts()).toHaveLength(1);
    expect((await op.audit('ca.distrust')).at(-1)).toMatchObject({
      outcome: 'success',
      target: `ca:${authorities[0]!.id} already`,
    });
  });
});

describe('distrust under an upstream CA', () => {
  let op: Operator;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-upstream-'));
    const rootKey = generateKeyPair('ec-p256');
    const rootPem = await buildSelfSignedCa({
      trustDomain: 'hallmark.local',
      keyPair: rootKey,
      ttlSeconds: 86_400,
      clock: systemClock,
      subjectCommonName: 'Operator Root',
    });
    await writeFile(path.join(dir, 'root.pem'), rootPem);
    await writeFile(
      path.join(dir, 'root.key'),
      rootKey.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    const env = {
      HALLMARK_UPSTREAM_CA_CERT: path.join(dir, 'root.pem'),
      HALLMARK_UPSTREAM_CA_KEY: path.join(dir, 'root.key'),
    };
    op = await new Operator(await startStack({ policy: POLICY, caTicker: false, env })).start();
  });
  afterAll(async () => {
    await op?.stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses SVIDs of a distrusted intermediate although their chain still reaches the root', async () => {
    const old = await op.svid();
    expect((await op.login(old)).status).toBe(200);
    const before = await op.bundle();
    const compromised = op.stack.server.ca.signingAuthority().id;
    const distrusted = await op.distrust({ ca_id: compromised, rotate: true });
    expect(distrusted.status).toBe(200);
    // The bundle is the operator's root either way; the intermediate was never in it.
    expect((await op.bundle()).anchors).toEqual(before.anchors);
    expect((await op.login(old)).body.error?.code).toBe('ERR_AUTHN_CA_DISTRUSTED');
    expect((await op.jwtSvid(old)).body.error?.code).toBe('ERR_AUTHN_CA_DISTRUSTED');
    expect((await op.login(await op.svid())).status).toBe(200);
  });
});
