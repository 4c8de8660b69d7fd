// The server with the CA and every signing key in a real SoftHSM2 token: issuance, custody,
// rotation and failing closed, seen by clients, by the token itself and by PostgreSQL.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  importJWK,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CKR } from '../../src/hsm/pkcs11-constants.js';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';
import { describeWithSoftHsm } from '../hsm/describe-with-softhsm.js';
import { createSoftHsmToken, type SoftHsmToken } from '../hsm/softhsm.js';
import { keyRows, opensslVerify, tokenPrivateKeys } from './token-inventory.js';

const ID = 'spiffe://hallmark.local/ns/payments/sa/api';

describeWithSoftHsm('the server with its keys in a SoftHSM2 token', () => {
  let token: SoftHsmToken;
  let stack: HallmarkStack;

  beforeAll(async () => {
    token = await createSoftHsmToken('hallmark-e2e');
    stack = await startStack({
      policy: 'workloads:\n  - namespace: payments\n    serviceAccount: api\n',
      env: {
        HALLMARK_PKCS11_MODULE: token.modulePath,
        HALLMARK_PKCS11_TOKEN: token.label,
        HALLMARK_PKCS11_PIN_FILE: token.pinFile,
      },
    });
    stack.k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await token?.remove();
  });

  const activeCa = async (): Promise<{ id: string; cert: X509Certificate }> => {
    const { rows } = await stack.server.db.query<{ id: string; cert_pem: string }>(
      "SELECT id::text, cert_pem FROM ca_authorities WHERE status = 'active'",
    );
    return { id: rows[0]!.id, cert: new X509Certificate(rows[0]!.cert_pem) };
  };

  async function svid(): Promise<{ chainPem: string; keyPem: string; leaf: X509Certificate }> {
    const keyPair = generateKeyPair('ec-p256');
    const attestation = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    const issued = await stack.call('POST', '/v1/svid/x509', {
      body: { csr: buildCsr(keyPair) },
      headers: { authorization: `Bearer ${attestation}` },
      dispatcher: stack.agent(),
    });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    const chainPem = issued.body.svid as string;
    return {
      chainPem,
      keyPem: keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      leaf: new X509Certificate(chainPem),
    };
  }

  const bundlePem = async (): Promise<string> =>
    (await stack.call('GET', '/v1/bundle', { headers: { accept: 'application/x-pem-file' } })).body
      .text!;

  async function adminToken(): Promise<string> {
    const key = (await readFile(stack.server.admin.file, 'utf8')).trim();
    const login = await stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'admin', api_key: key },
    });
    expect(login.status).toBe(200);
    return login.body.token as string;
  }

  it('issues an X509-SVID, an access token and a JWT-SVID signed in the token; clients verify each', async () => {
    const ca = await activeCa();
    const workload = await svid();
    // OpenSSL's strict chain check against the published bundle, and the issuer is the CA
    // whose row points into the token.
    expect(await opensslVerify(await bundlePem(), workload.chainPem)).toContain('OK');
    expect(workload.leaf.verify(ca.cert.publicKey)).toBe(true);
    const caRow = (await keyRows(stack.server.db)).find(
      (row) => row.table === 'ca_authorities' && row.key === ca.id,
    );
    expect(caRow).toMatchObject({ sealed: false, tokenId: expect.stringMatching(/^ca:/) });

    const client = stack.agent({ cert: workload.chainPem, key: workload.keyPem });
    const login = await stack.call('POST', '/v1/authn/login', { body: {}, dispatcher: client });
    expect(login.status).toBe(200);
    const access = login.body.token as string;
    const { kid, alg } = decodeProtectedHeader(access);
    const signingKey = await stack.server.db.query<{ public_jwk: JWK; pkcs11_id: string | null }>(
      'SELECT public_jwk, pkcs11_id FROM token_signing_keys WHERE kid = $1',
      [kid],
    );
    expect(signingKey.rows[0]?.pkcs11_id).toEqual(expect.any(String));
    const verified = await jwtVerify(access, await importJWK(signingKey.rows[0]!.public_jwk, alg));
    expect(verified.payload.sub).toBe(ID);

    const jwt = await stack.call('POST', '/v1/svid/jwt', {
      body: { audience: ['payments-db'] },
      dispatcher: client,
    });
    expect(jwt.status).toBe(200);
    const bundle = await stack.call('GET', '/v1/bundle');
    // A SPIFFE bundle marks JWT authorities `use: jwt-svid`; jose looks for `sig`.
    const jwks = {
      keys: (bundle.body.keys as JWK[])
        .filter((k) => k.use === 'jwt-svid')
        .map((k) => ({ ...k, use: 'sig' })),
    };
    const jwtSvid = await jwtVerify(
      jwt.body.token as string,
      createLocalJWKSet(jwks as JSONWebKeySet),
      { audience: 'payments-db' },
    );
    expect(jwtSvid.payload.sub).toBe(ID);
    const authority = await stack.server.db.query<{ pkcs11_id: string | null }>(
      'SELECT pkcs11_id FROM jwt_authority_keys WHERE kid = $1',
      [jwtSvid.protectedHeader.kid],
    );
    expect(authority.rows[0]?.pkcs11_id).toEqual(expect.any(String));
  });

  it('keeps every private key in the token, sensitive and never extractable; PostgreSQL holds only its id', async () => {
    const rows = await keyRows(stack.server.db);
    const signing = rows.filter((row) => row.status === 'active' || row.status === 'prepared');
    expect(new Set(signing.map((row) => row.table))).toEqual(
      new Set([
        'ca_authorities',
        'token_signing_keys',
        'jwt_authority_keys',
        'audit_checkpoint_keys',
      ]),
    );
    for (const row of signing) expect(row.tokenId, row.key).toBeDefined();
    expect(rows.filter((row) => row.sealed)).toEqual([]);

    const objects = await tokenPrivateKeys(token);
    // One object per row, and no object that no row points to.
    expect(objects.map((o) => o.id).sort()).toEqual(rows.flatMap((r) => r.tokenId ?? []).sort());
    for (const object of objects) {
      expect(object, object.id).toEqual({
        id: object.id,
        token: true,
        private: true,
        sensitive: true,
        extractable: false,
        alwaysSensitive: true,
        neverExtractable: true,
        secretRead: CKR.ATTRIBUTE_SENSITIVE,
      });
    }
  });

  it('rotation makes the next CA key in the token; the server accepts a token-signed admin token', async () => {
    const before = await activeCa();
    const objectsBefore = (await tokenPrivateKeys(token)).map((o) => o.id);
    const rotated = await stack.call('POST', '/v1/ca/rotate', {
      headers: { authorization: `Bearer ${await adminToken()}` },
    });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const after = await activeCa();
    expect(after.id).not.toBe(before.id);
    expect(String(rotated.body.active_ca)).toBe(after.id);

    const rows = await keyRows(stack.server.db);
    const newRow = rows.find((row) => row.table === 'ca_authorities' && row.key === after.id);
    const oldRow = rows.find((row) => row.table === 'ca_authorities' && row.key === before.id);
    expect(newRow).toMatchObject({ status: 'active', sealed: false });
    // The old CA's key stays in the token until its certificate expires.
    expect(oldRow).toMatchObject({ status: 'old', sealed: false, tokenId: expect.any(String) });
    const objectsAfter = (await tokenPrivateKeys(token)).map((o) => o.id);
    expect(objectsAfter.filter((id) => !objectsBefore.includes(id))).toEqual([newRow!.tokenId]);

    const workload = await svid();
    expect(workload.leaf.verify(after.cert.publicKey)).toBe(true);
    expect(await opensslVerify(await bundlePem(), workload.chainPem)).toContain('OK');
  });

  it('fails closed while the token is gone (/readyz and SVIDs 503, nothing issued) and recovers', async () => {
    const workload = await svid();
    const client = stack.agent({ cert: workload.chainPem, key: workload.keyPem });
    const issuedCount = async (): Promise<number> =>
      Number(
        (
          await stack.server.db.query<{ n: string }>(
            'SELECT count(*) AS n FROM issued_certificates',
          )
        ).rows[0]?.n,
      );
    const before = await issuedCount();

    await token.hide();
    try {
      const ready = await stack.call('GET', '/readyz');
      expect(ready.status).toBe(503);
      const attestation = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
      const refused = await stack.call('POST', '/v1/svid/x509', {
        body: { csr: buildCsr(generateKeyPair('ec-p256')) },
        headers: { authorization: `Bearer ${attestation}` },
      });
      expect(refused.status).toBe(503);
      expect(refused.body.error?.code).toBe('ERR_CA_UNAVAILABLE');
      const login = await stack.call('POST', '/v1/authn/login', { body: {}, dispatcher: client });
      expect([login.status, login.body.error?.code]).toEqual([
        503,
        'ERR_AUTHN_SIGNING_UNAVAILABLE',
      ]);
      const jwt = await stack.call('POST', '/v1/svid/jwt', {
        body: { audience: ['payments-db'] },
        dispatcher: client,
      });
      expect([jwt.status, jwt.body.error?.code]).toEqual([
        503,
        'ERR_JWTSVID_AUTHORITY_UNAVAILABLE',
      ]);
      expect(await issuedCount()).toBe(before);
    } finally {
      await token.restore();
    }

    // Back: ready again within a few probes, and issuing.
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await stack.call('GET', '/readyz')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(status).toBe(200);
    await svid();
    expect(await issuedCount()).toBe(before + 1);
  });
});
