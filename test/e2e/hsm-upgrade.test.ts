// An installation with sealed keys moves to a SoftHSM2 token; a server whose token does not
// match its database refuses to start, naming the variable to fix.
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConfigError, loadServerConfig } from '../../src/config/index.js';
import { Database } from '../../src/db/index.js';
import { CKA } from '../../src/hsm/pkcs11-constants.js';
import { startServer } from '../../src/server/index.js';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import { tempDataDir } from '../helpers/cli-process.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';
import { describeWithSoftHsm } from '../hsm/describe-with-softhsm.js';
import { createSoftHsmToken, type SoftHsmToken } from '../hsm/softhsm.js';
import { find, witness } from '../hsm/token-witness.js';
import { keyRows, opensslVerify, tokenPrivateKeys } from './token-inventory.js';

const POLICY = 'workloads:\n  - namespace: payments\n    serviceAccount: api\n';

describeWithSoftHsm('from sealed keys to a SoftHSM2 token', () => {
  let token: SoftHsmToken;
  let databaseUrl: string;
  const master = randomBytes(32).toString('base64');
  const tokenEnv = (): Record<string, string> => ({
    HALLMARK_PKCS11_MODULE: token.modulePath,
    HALLMARK_PKCS11_TOKEN: token.label,
    HALLMARK_PKCS11_PIN_FILE: token.pinFile,
  });

  beforeAll(async () => {
    token = await createSoftHsmToken('hallmark-upgrade');
    databaseUrl = await createEmptyDatabase();
  });
  afterAll(() => token?.remove());

  async function stackOf(env: Record<string, string>): Promise<HallmarkStack> {
    const stack = await startStack({
      databaseUrl,
      policy: POLICY,
      env: { HALLMARK_MASTER_KEY: master, ...env },
    });
    stack.k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
    return stack;
  }

  async function svid(stack: HallmarkStack): Promise<{ chainPem: string; keyPem: string }> {
    const keyPair = generateKeyPair('ec-p256');
    const attestation = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    const issued = await stack.call('POST', '/v1/svid/x509', {
      body: { csr: buildCsr(keyPair) },
      headers: { authorization: `Bearer ${attestation}` },
    });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    return {
      chainPem: issued.body.svid as string,
      keyPem: keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    };
  }

  it('starts on a sealed-key database; the sealed keys keep working and `ca rotate --now` moves the CA into the token', async () => {
    const sealed = await stackOf({});
    let old: { chainPem: string; keyPem: string };
    let sealedRows: Awaited<ReturnType<typeof keyRows>>;
    let adminKey: string;
    try {
      old = await svid(sealed);
      // Written once, by the first start, into that server's data dir.
      adminKey = (await readFile(sealed.server.admin.file, 'utf8')).trim();
      sealedRows = await keyRows(sealed.server.db);
    } finally {
      await sealed.close();
    }
    expect(sealedRows.length).toBeGreaterThanOrEqual(3);
    expect(sealedRows.every((row) => row.sealed && row.tokenId === undefined)).toBe(true);

    const moved = await stackOf(tokenEnv());
    try {
      // The sealed keys still sign under the token's configuration, until they rotate: an SVID
      // from the sealed CA, an access token and a JWT-SVID from the sealed keys. (The SVID from
      // before belongs to a pod of the previous test Kubernetes API, gone now.)
      const before = await svid(moved);
      const client = moved.agent({ cert: before.chainPem, key: before.keyPem });
      const login = await moved.call('POST', '/v1/authn/login', { body: {}, dispatcher: client });
      expect(login.status).toBe(200);
      const jwt = await moved.call('POST', '/v1/svid/jwt', {
        body: { audience: ['db'] },
        dispatcher: client,
      });
      expect(jwt.status).toBe(200);
      expect(await tokenPrivateKeys(token)).toEqual([]);
      const admin = await moved.call('POST', '/v1/authn/apikey', {
        body: { id: 'admin', api_key: adminKey },
      });
      // What `hallmark ca rotate --now` sends.
      const rotated = await moved.call('POST', '/v1/ca/rotate', {
        headers: { authorization: `Bearer ${admin.body.token as string}` },
      });
      expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);

      const rows = await keyRows(moved.server.db);
      const cas = rows.filter((row) => row.table === 'ca_authorities');
      const active = cas.find((row) => row.status === 'active');
      expect(active).toMatchObject({ sealed: false, tokenId: expect.stringMatching(/^ca:/) });
      // The sealed CA verifies until it expires: still sealed, still in the bundle.
      expect(cas.filter((row) => row.status === 'old')).toEqual([
        expect.objectContaining({ sealed: true, tokenId: undefined }),
      ]);
      expect((await tokenPrivateKeys(token)).map((o) => o.id)).toContain(active!.tokenId);

      const bundle = (
        await moved.call('GET', '/v1/bundle', { headers: { accept: 'application/x-pem-file' } })
      ).body.text!;
      const renewed = await svid(moved);
      const activeCert = await moved.server.db.query<{ cert_pem: string }>(
        'SELECT cert_pem FROM ca_authorities WHERE id = $1',
        [active!.key],
      );
      expect(
        new X509Certificate(renewed.chainPem).verify(
          new X509Certificate(activeCert.rows[0]!.cert_pem).publicKey,
        ),
      ).toBe(true);
      expect(await opensslVerify(bundle, renewed.chainPem)).toContain('OK');
      expect(await opensslVerify(bundle, old.chainPem)).toContain('OK');
    } finally {
      await moved.close();
    }
  });

  async function startRefusal(env: Record<string, string>): Promise<ConfigError> {
    const dataDir = await tempDataDir();
    try {
      const config = loadServerConfig({
        env: {
          HALLMARK_DATA_DIR: dataDir,
          HALLMARK_LISTEN: '127.0.0.1:0',
          HALLMARK_MASTER_KEY: master,
          HALLMARK_LOG_LEVEL: 'silent',
          DATABASE_URL: databaseUrl,
          ...env,
        },
      });
      let started;
      try {
        started = await startServer(config);
      } catch (err) {
        if (err instanceof ConfigError) return err;
        throw err;
      }
      await started.close();
      throw new Error('the server started');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }

  it('refuses to start, naming the variable: token keys but no module, a wrong PIN, an unknown token, a missing key', async () => {
    expect((await startRefusal({})).variable).toBe('HALLMARK_PKCS11_MODULE');

    const wrongPin = path.join(token.dir, 'wrong.pin');
    await writeFile(wrongPin, '9999-not-the-pin\n', { mode: 0o600 });
    const pinRefused = await startRefusal({ ...tokenEnv(), HALLMARK_PKCS11_PIN_FILE: wrongPin });
    expect(pinRefused.variable).toBe('HALLMARK_PKCS11_PIN_FILE');
    expect(pinRefused.message).not.toContain('9999-not-the-pin');

    const unknown = await startRefusal({ ...tokenEnv(), HALLMARK_PKCS11_TOKEN: 'no-such-token' });
    expect(unknown.variable).toBe('HALLMARK_PKCS11_TOKEN');

    // The active CA's private key deleted from the token behind Hallmark's back.
    const db = new Database(databaseUrl);
    const active = (await keyRows(db)).find(
      (row) => row.table === 'ca_authorities' && row.status === 'active',
    );
    await db.close();
    await witness(token, (api, session) => {
      for (const handle of find(api, session, [
        { type: CKA.ID, value: Buffer.from(active!.tokenId!) },
      ])) {
        api.C_DestroyObject(session, handle);
      }
    });
    expect((await startRefusal(tokenEnv())).variable).toBe('HALLMARK_PKCS11_TOKEN');
  });
});
