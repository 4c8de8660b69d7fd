// Identity confinement through the real server: PUT /v1/policy refuses a registration that
// reaches into another namespace, audits foreign paths it allows, and a stored pre-confinement
// policy's out-of-bounds renderings are refused at POST /v1/svid/x509, never issued.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_CHANNEL } from '../../src/policy/index.js';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

const SAFE = `
workloads:
  - namespace: dev
    serviceAccount: api
`;

/** A dev registration whose ID comes from a label anyone creating a pod in dev chooses. */
const LABEL_ESCAPE = `
workloads:
  - namespace: dev
    serviceAccount: api
  - namespace: dev
    serviceAccount: web
    spiffeId: /ns/{label:team}/sa/{serviceAccount}
`;

const FOREIGN = `
workloads:
  - namespace: dev
    serviceAccount: api
  - namespace: ops
    spiffeId: /ops/{serviceAccount}
    allowForeignPath: true
`;

describe('identity confinement through the API', () => {
  let stack: HallmarkStack;
  let adminToken: string;
  const csr = buildCsr(generateKeyPair('ec-p256'));

  beforeAll(async () => {
    stack = await startStack();
    const adminKey = (await readFile(stack.server.admin.file, 'utf8')).trim();
    const login = await stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'admin', api_key: adminKey },
    });
    adminToken = login.body.token as string;
    stack.k8s.addPod({
      namespace: 'dev',
      name: 'web-evil',
      serviceAccountName: 'web',
      labels: { team: 'prod' },
    });
    stack.k8s.addPod({
      namespace: 'dev',
      name: 'web-ok',
      serviceAccountName: 'web',
      labels: { team: 'dev' },
    });
  });
  afterAll(() => stack.close());

  const putPolicy = (yaml: string) =>
    stack.call('PUT', '/v1/policy', {
      raw: yaml,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/yaml' },
    });

  const policyLoads = async () => {
    await stack.server.audit.settle();
    return (
      await stack.server.db.query<{ outcome: string; target: string; reason: string }>(
        "SELECT outcome, target, reason FROM audit_log WHERE action = 'policy.load' ORDER BY seq",
      )
    ).rows;
  };

  it('refuses a label-derived namespace with ERR_POLICY_INVALID naming the line, and changes nothing', async () => {
    expect((await putPolicy(SAFE)).status).toBe(200);
    const before = await policyLoads();
    const response = await putPolicy(LABEL_ESCAPE);
    expect(response.status).toBe(422);
    expect(response.body.error?.code).toBe('ERR_POLICY_INVALID');
    expect(response.body.error?.details).toEqual([
      expect.objectContaining({ path: 'workloads[1].spiffeId', line: 7 }),
    ]);
    expect(stack.server.policy.version()).toBe(1);
    const after = await policyLoads();
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)?.outcome).not.toBe('success');
  });

  it('loads a foreign path allowed explicitly and names it in the audit row', async () => {
    const response = await putPolicy(FOREIGN);
    expect(response.status).toBe(200);
    const row = (await policyLoads()).at(-1);
    expect(row).toMatchObject({ outcome: 'success', target: `policy@${response.body.version}` });
    expect(row?.reason).toBe('allowForeignPath: workloads[1] (ops) /ops/{serviceAccount}');
  });

  it('refuses, at issuance, an out-of-bounds rendering of a policy stored before confinement', async () => {
    // As an older version stored it: straight into the table, announced like any load.
    const version = stack.server.policy.version() + 1;
    await stack.server.db.query(
      'INSERT INTO policies (version, document, sha256, loaded_at, loaded_by) VALUES ($1, $2, $3, now(), $4)',
      [version, LABEL_ESCAPE, createHash('sha256').update(LABEL_ESCAPE).digest('hex'), 'old'],
    );
    await stack.server.db.query('SELECT pg_notify($1, $2)', [POLICY_CHANNEL, String(version)]);
    const deadline = Date.now() + 5_000;
    while (stack.server.policy.version() !== version && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(stack.server.policy.version()).toBe(version);

    const issue = async (podName: string) =>
      stack.call('POST', '/v1/svid/x509', {
        body: { csr },
        headers: {
          authorization: `Bearer ${await stack.k8s.issueToken({ namespace: 'dev', podName })}`,
        },
      });
    const evil = await issue('web-evil');
    expect(evil.status).toBe(403);
    expect(evil.body.error?.code).toBe('ERR_POLICY_NO_REGISTRATION');
    const issuedToProd = await stack.server.db.query(
      "SELECT 1 FROM issued_certificates WHERE spiffe_id LIKE 'spiffe://hallmark.local/ns/prod/%'",
    );
    expect(issuedToProd.rowCount).toBe(0);
    // The same registration rendering inside dev still issues.
    const ok = await issue('web-ok');
    expect(ok.status).toBe(200);
    expect(ok.body.spiffe_id).toBe('spiffe://hallmark.local/ns/dev/sa/web');
  });
});
