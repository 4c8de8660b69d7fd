import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

const POLICY = `
workloads:
  - namespace: payments
    serviceAccount: api
groups:
  payments-readers: [spiffe://hallmark.local/ns/payments/sa/api]
grants:
  - to: payments-readers
    read: [payments/*]
`;

describe('pod → SVID → mTLS login → access token → secrets', () => {
  let stack: HallmarkStack;
  let adminToken: string;

  beforeAll(async () => {
    stack = await startStack();
    stack.k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
    const adminKey = (await readFile(stack.server.admin.file, 'utf8')).trim();
    const login = await stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'admin', api_key: adminKey },
    });
    expect(login.status).toBe(200);
    adminToken = login.body.token as string;
  });
  afterAll(() => stack.close());

  const admin = (): Record<string, string> => ({ authorization: `Bearer ${adminToken}` });

  it('lets the admin load policy and write secrets through the API', async () => {
    const policy = await stack.call('PUT', '/v1/policy', {
      raw: POLICY,
      headers: { ...admin(), 'content-type': 'application/yaml' },
    });
    expect(policy.status).toBe(200);
    expect(policy.body.version).toBe(1);
    for (const [path, value] of [
      ['payments/db-password', 'hunter2-db'],
      ['payments/api-key', 'k-123'],
      ['billing/db-password', 'not-for-payments'],
    ]) {
      const put = await stack.call('PUT', `/v1/secrets/${path}`, {
        body: { value },
        headers: admin(),
      });
      expect(put.status).toBe(200);
    }
    const read = await stack.call('GET', '/v1/policy', { headers: admin() });
    expect(read.body.document).toBe(POLICY);
  });

  it('refuses an invalid policy listing every problem, keeping the old one', async () => {
    const bad =
      'workloads:\n  - namespace: Bad_NS\n    ttl: 99h\ngrants:\n  - to: nobody-group\n    read: [../x]\n';
    const response = await stack.call('PUT', '/v1/policy', {
      raw: bad,
      headers: { ...admin(), 'content-type': 'application/yaml' },
    });
    expect(response.status).toBe(422);
    expect(response.body.error?.code).toBe('ERR_POLICY_INVALID');
    expect((response.body.error?.details as unknown[]).length).toBeGreaterThanOrEqual(3);
    expect(stack.server.policy.version()).toBe(1);
  });

  it('gives a pod its secrets in one batch, and nothing when one path is not granted', async () => {
    const keyPair = generateKeyPair('ec-p256');
    const token = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    const svid = await stack.call('POST', '/v1/svid/x509', {
      body: { csr: buildCsr(keyPair) },
      headers: { authorization: `Bearer ${token}` },
    });
    expect(svid.status).toBe(200);

    const mtls = stack.agent({
      cert: svid.body.svid as string,
      key: keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    });
    const login = await stack.call('POST', '/v1/authn/login', { dispatcher: mtls });
    expect(login.status).toBe(200);
    const bearer = { authorization: `Bearer ${login.body.token as string}` };

    const batch = await stack.call('POST', '/v1/secrets/batch', {
      body: { paths: ['payments/db-password', 'payments/api-key'] },
      headers: bearer,
    });
    expect(batch.status).toBe(200);
    expect(batch.body.secrets).toEqual({
      'payments/db-password': 'hunter2-db',
      'payments/api-key': 'k-123',
    });

    const denied = await stack.call('POST', '/v1/secrets/batch', {
      body: { paths: ['payments/db-password', 'billing/db-password'] },
      headers: bearer,
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error?.code).toBe('ERR_POLICY_DENIED');
    expect(JSON.stringify(denied.body)).not.toContain('hunter2-db');
    expect(denied.body.error?.message).toContain('billing/db-password');

    const single = await stack.call('GET', '/v1/secrets/payments/db-password', { headers: bearer });
    expect(single.body).toEqual({ path: 'payments/db-password', version: 1, value: 'hunter2-db' });

    // The audit log has the reads, never the values.
    await stack.server.audit.settle();
    const rows = await stack.server.db.query<{ row: string }>(
      'SELECT row_to_json(a)::text AS row FROM audit_log a',
    );
    const text = rows.rows.map((r) => r.row).join('\n');
    expect(text).toContain('secret.read');
    expect(text).not.toContain('hunter2-db');
  });

  it('refuses login without a client certificate', async () => {
    const response = await stack.call('POST', '/v1/authn/login');
    expect(response.status).toBe(401);
    expect(response.body.error?.code).toBe('ERR_AUTHN_CLIENT_CERT_REQUIRED');
  });
});
