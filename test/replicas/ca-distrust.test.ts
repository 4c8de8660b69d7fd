// A CA distrusted through one server process is distrusted by the other within the NOTIFY bound.
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HallmarkClient } from '../faults/support/hallmark-client.js';
import { until } from '../faults/support/load-loop.js';
import {
  apiKeyToken,
  requestSvid,
  svidCredential,
  workloadKey,
} from '../faults/support/workload.js';
import { startReplicaPair, type ReplicaPair } from './replica-pair.js';

const POLICY = `
workloads:
  - namespace: payments
    serviceAccount: api
`;
/** The design's promise: a change reaches every replica within 1 s (LISTEN/NOTIFY). */
const PROPAGATION_BOUND_MS = 1_000;

describe('CA distrust with two server processes', () => {
  let pair: ReplicaPair;
  let admin: string;
  let projected: string;

  beforeAll(async () => {
    pair = await startReplicaPair();
    pair.k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
    projected = await pair.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    admin = await apiKeyToken(pair.a.client, 'admin', pair.adminKey);
    const loaded = await pair.a.client.call('PUT', '/v1/policy', { yaml: POLICY, token: admin });
    expect(loaded.status).toBe(200);
  });

  afterAll(async () => {
    await pair?.close();
  });

  /** Clients trusting every CA there is, whichever signs a replica's serving certificate. */
  async function clients(): Promise<{ a: HallmarkClient; b: HallmarkClient }> {
    const rows = await pair.db.query<{ cert_pem: string }>('SELECT cert_pem FROM ca_authorities');
    const pem = rows.rows.map((row) => row.cert_pem).join('');
    return { a: new HallmarkClient(pair.a.url, pem), b: new HallmarkClient(pair.b.url, pem) };
  }

  it('B drops the CA from its bundle and refuses its SVIDs at login, within 1 s', async () => {
    const key = workloadKey();
    const svid = await requestSvid(pair.b.client, projected, key);
    expect(svid.status).toBe(200);
    const login = () =>
      pair.b.client.call('POST', '/v1/authn/login', {
        agent: pair.b.client.agent(svidCredential(svid, key)),
      });
    expect((await login()).status).toBe(200);
    const compromised = await pair.db.query<{ id: string; cert_pem: string }>(
      "SELECT id, cert_pem FROM ca_authorities WHERE status = 'active'",
    );
    const { id, cert_pem: pem } = compromised.rows[0]!;
    const anchor = new X509Certificate(pem).raw.toString('base64');

    const distrusted = await pair.a.client.call('POST', '/v1/ca/distrust', {
      body: { ca_id: Number(id), rotate: true },
      token: admin,
    });
    expect(distrusted.status).toBe(200);
    const sequence = distrusted.body.spiffe_sequence as number;
    const at = performance.now();

    const { a, b } = await clients();
    try {
      await until(
        'B to serve the bundle without the distrusted CA',
        async () => {
          const bundle = await b.call('GET', '/v1/bundle');
          const keys = bundle.body.keys as { use: string; x5c?: string[] }[];
          return (
            bundle.body.spiffe_sequence === sequence &&
            !keys.some((k) => k.use === 'x509-svid' && k.x5c?.[0] === anchor)
          );
        },
        5_000,
        0,
      );
      const ms = performance.now() - at;
      console.info(`[replicas] distrust via A: B served the new bundle ${ms.toFixed(1)} ms later`);
      expect(ms).toBeLessThan(PROPAGATION_BOUND_MS);
      const refused = await b.call('POST', '/v1/authn/login', {
        agent: b.agent(svidCredential(svid, key)),
      });
      expect(refused.body.error?.code).toBe('ERR_AUTHN_CA_DISTRUSTED');
      // B signs with the CA A activated in the same step.
      const renewed = await requestSvid(b, projected, workloadKey());
      const active = await pair.db.query<{ cert_pem: string }>(
        'SELECT cert_pem FROM ca_authorities WHERE id = $1',
        [distrusted.body.active_ca],
      );
      const newCa = new X509Certificate(active.rows[0]!.cert_pem);
      expect(new X509Certificate(renewed.body.svid as string).verify(newCa.publicKey)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
