// The Kubernetes API refusing, failing or hanging: SVID requests fail closed with 503 within the timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/authn/index.js';
import { systemClock } from '../../src/clock/index.js';
import { parseSecretPath } from '../../src/secrets/index.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';
import { HallmarkClient, transportCode } from './support/hallmark-client.js';
import { startLoad, until } from './support/load-loop.js';
import { apiKeyToken, requestSvid, workloadKey } from './support/workload.js';

const POLICY = `
workloads:
  - namespace: payments
    serviceAccount: api
grants:
  - to: key:app-1
    read: [payments/*]
`;
const TIMEOUT_MS = 2_000; // HALLMARK_K8S_TIMEOUT below
/** The issue's bound: the refusal arrives within the configured timeout plus one second. */
const REFUSAL_BOUND_MS = TIMEOUT_MS + 1_000;
const SECRET_PATH = 'payments/db-password';
const SECRET_VALUE = 'k8s-outage-secret-value';

interface Outcome {
  kind: 'svid' | 'secret';
  status: number;
  code?: string;
  ms: number;
  value?: unknown;
}

describe('Kubernetes API down or slow under load', () => {
  let stack: HallmarkStack;
  let client: HallmarkClient;
  let appToken: string;
  const key = workloadKey();

  beforeAll(async () => {
    stack = await startStack({
      policy: POLICY,
      env: { HALLMARK_K8S_TIMEOUT: `${TIMEOUT_MS / 1000}s`, HALLMARK_RATE_LIMIT: '1000000' },
    });
    client = new HallmarkClient(
      stack.server.url,
      stack.server.ca.bundle().certificatesPem.join(''),
    );
    stack.k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
    await stack.server.secrets.put(parseSecretPath(SECRET_PATH), SECRET_VALUE, 'test');
    const apiKey = await createApiKey(stack.server.db, { id: 'app-1', role: 'app' }, systemClock);
    appToken = await apiKeyToken(client, 'app-1', apiKey);
  });

  afterAll(async () => {
    stack?.k8s.setLatency(0);
    await stack?.k8s.setDown(false);
    await client?.close();
    await stack?.close(); // also fails if any Kubernetes call fell outside deploy/rbac.yaml
  });

  /** A burst of SVID requests and API-key secret reads, interleaved, 8 at a time. */
  async function burst(projected: string, calls: number): Promise<Outcome[]> {
    const load = startLoad({ workers: 8, maxCalls: calls, maxMs: 30_000 }, async (_w, call) => {
      const kind: Outcome['kind'] = call % 2 === 0 ? 'svid' : 'secret';
      const started = performance.now();
      try {
        const reply =
          kind === 'svid'
            ? await requestSvid(client, projected, key)
            : await client.call('GET', `/v1/secrets/${SECRET_PATH}`, { token: appToken });
        const outcome: Outcome = {
          kind,
          status: reply.status,
          code: reply.body.error?.code,
          ms: performance.now() - started,
        };
        if (kind === 'secret') outcome.value = reply.body.value;
        return outcome;
      } catch (err) {
        return { kind, status: 0, code: transportCode(err), ms: performance.now() - started };
      }
    });
    return load.done;
  }

  const faults: [
    string,
    (s: HallmarkStack) => Promise<void>,
    (s: HallmarkStack) => Promise<void>,
  ][] = [
    ['refuses connections', (s) => s.k8s.setDown(true, 'refuse'), (s) => s.k8s.setDown(false)],
    ['answers 503', (s) => s.k8s.setDown(true, 'unavailable'), (s) => s.k8s.setDown(false)],
    [
      'hangs past HALLMARK_K8S_TIMEOUT',
      async (s) => s.k8s.setLatency(30_000),
      async (s) => s.k8s.setLatency(0),
    ],
  ];

  it.each(faults)(
    'when it %s: SVIDs get 503 ERR_ATTEST_UNAVAILABLE within the timeout + 1 s, API-key reads go on, issuance resumes',
    async (name, breakIt, repair) => {
      const projected = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
      expect((await requestSvid(client, projected, key)).status).toBe(200);
      const certificates = async (): Promise<number> =>
        Number(
          (
            await stack.server.db.query<{ n: string }>(
              'SELECT count(*) AS n FROM issued_certificates',
            )
          ).rows[0]?.n,
        );
      const before = await certificates();

      await breakIt(stack);
      let outcomes: Outcome[];
      try {
        outcomes = await burst(projected, 16); // 8 SVID requests and 8 reads, 8 at a time
      } finally {
        await repair(stack);
      }
      const svids = outcomes.filter((o) => o.kind === 'svid');
      const reads = outcomes.filter((o) => o.kind === 'secret');
      expect(svids.filter((o) => o.status !== 503 || o.code !== 'ERR_ATTEST_UNAVAILABLE')).toEqual(
        [],
      );
      const slowest = Math.max(...svids.map((o) => o.ms));
      expect(slowest).toBeLessThan(REFUSAL_BOUND_MS);
      // Identities that do not depend on Kubernetes are not taken down with it.
      expect(reads.filter((o) => o.status !== 200 || o.value !== SECRET_VALUE)).toEqual([]);
      expect(await certificates()).toBe(before);
      const refusalsAudited = await stack.server.db.query<{ n: string }>(
        "SELECT count(*) AS n FROM audit_log WHERE action = 'svid.x509.denied' AND reason = 'ERR_ATTEST_UNAVAILABLE'",
      );
      expect(Number(refusalsAudited.rows[0]?.n)).toBeGreaterThanOrEqual(svids.length);

      const resumedAfter = await until(
        'SVID issuance after the Kubernetes API is back',
        async () => (await requestSvid(client, projected, key)).status === 200,
        10_000,
        50,
      );
      console.info(
        `[faults] kubernetes ${name}: ${svids.length} × 503 (slowest ${Math.round(slowest)} ms, bound ${REFUSAL_BOUND_MS} ms), ` +
          `${reads.length} API-key reads 200, issuance resumed ${Math.round(resumedAfter)} ms after repair`,
      );
    },
  );

  it('still issues when it is slow but within the timeout', async () => {
    const projected = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    stack.k8s.setLatency(TIMEOUT_MS / 4);
    try {
      const outcomes = await burst(projected, 16);
      expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    } finally {
      stack.k8s.setLatency(0);
    }
  });
});
