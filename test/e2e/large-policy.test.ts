// A policy of almost 1 MiB (one registration per namespace, as a large cluster needs) loads
// through PUT /v1/policy, is served back by GET /v1/policy, and its last entry issues SVIDs.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_YAML_LIMITS } from '../../src/policy/index.js';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

/** "Loads in a few seconds", bounded generously for a shared 2-core machine. */
const LOAD_LIVENESS_MS = 20_000;

/** Registrations, one per namespace, until the next would pass the 1 MiB limit. */
function largePolicy(): { yaml: string; registrations: number } {
  const grants = 'grants:\n  - {to: "spiffe://hallmark.local/ns/team-0/*", read: [team-0/*]}\n';
  const entry = (i: number) =>
    `  - {namespace: team-${i}, serviceAccount: app, labels: {app: web}}\n`;
  let yaml = 'workloads:\n';
  let registrations = 0;
  while (
    yaml.length + entry(registrations).length + grants.length <=
    DEFAULT_YAML_LIMITS.maxBytes
  ) {
    yaml += entry(registrations++);
  }
  return { yaml: yaml + grants, registrations };
}

describe('a 1 MiB policy through the API', () => {
  let stack: HallmarkStack;
  let adminToken: string;

  beforeAll(async () => {
    stack = await startStack();
    const adminKey = (await readFile(stack.server.admin.file, 'utf8')).trim();
    const login = await stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'admin', api_key: adminKey },
    });
    adminToken = login.body.token as string;
  });
  afterAll(() => stack.close());

  it('loads, serves back and applies a 1 MiB document of 15,000+ registrations', async () => {
    const { yaml, registrations } = largePolicy();
    expect(registrations).toBeGreaterThan(15_000);
    expect(Buffer.byteLength(yaml)).toBeGreaterThan(DEFAULT_YAML_LIMITS.maxBytes - 100);
    expect(Buffer.byteLength(yaml)).toBeLessThanOrEqual(DEFAULT_YAML_LIMITS.maxBytes);
    const admin = { authorization: `Bearer ${adminToken}` };

    const started = performance.now();
    const put = await stack.call('PUT', '/v1/policy', {
      raw: yaml,
      headers: { ...admin, 'content-type': 'application/yaml' },
    });
    const loadMs = performance.now() - started;
    expect(put.status).toBe(200);
    // A hang guard, not a performance assertion (the figure is measured in npm run bench): a
    // document that took minutes again (quadratic compile) would fail here.
    expect(loadMs).toBeLessThan(LOAD_LIVENESS_MS);
    expect(put.body.sha256).toBe(createHash('sha256').update(yaml).digest('hex'));

    const get = await stack.call('GET', '/v1/policy', { headers: admin });
    expect(get.status).toBe(200);
    expect(get.body.version).toBe(put.body.version);
    expect(get.body.document).toBe(yaml);

    // The last registration is in force: its pod gets its SVID.
    const namespace = `team-${registrations - 1}`;
    stack.k8s.addPod({
      namespace,
      name: 'app-1',
      serviceAccountName: 'app',
      labels: { app: 'web' },
    });
    const svid = await stack.call('POST', '/v1/svid/x509', {
      body: { csr: buildCsr(generateKeyPair('ec-p256')) },
      headers: {
        authorization: `Bearer ${await stack.k8s.issueToken({ namespace, podName: 'app-1' })}`,
      },
    });
    expect(svid.status).toBe(200);
    expect(svid.body.spiffe_id).toBe(`spiffe://hallmark.local/ns/${namespace}/sa/app`);
  });
});
