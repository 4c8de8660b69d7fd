// Two replicas whose CA ticks race every second: each scheduled rotation step is done exactly once.
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/index.js';
import { HallmarkClient } from '../faults/support/hallmark-client.js';
import type { ServerProcess } from '../faults/support/server-process.js';
import { until } from '../faults/support/load-loop.js';
import { requestSvid, workloadKey } from '../faults/support/workload.js';
import { startReplicaPair, type ReplicaPair } from './replica-pair.js';

// A 12 s CA lives 22 s (notBefore is backdated 10 s): its successor is prepared at half-life and
// activated when a sixth remains, so within ~20 s of the first start several steps have come due,
// each seen by both replicas' 1 s rotation ticks at about the same moment.
const CA_TTL = '12s';
const ROTATIONS = 2;

describe('scheduled CA rotation with two replicas', () => {
  let pair: ReplicaPair;

  beforeAll(async () => {
    // At info level each replica logs the rotation steps it performed itself.
    pair = await startReplicaPair({ HALLMARK_CA_TTL: CA_TTL, HALLMARK_LOG_LEVEL: 'info' });
    pair.k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
  });

  afterAll(async () => {
    await pair?.close();
  });

  /** The rotation steps a replica logged as its own (`certificate authority rotated`). */
  function stepsLogged(replica: ServerProcess): string[] {
    return replica.cli
      .stdout()
      .split('\n')
      .flatMap((line) => {
        if (!line.includes('certificate authority rotated')) return [];
        try {
          const entry = JSON.parse(line) as { action?: string };
          return entry.action === undefined ? [] : [entry.action];
        } catch {
          return []; // the last line, still arriving
        }
      });
  }

  async function count(sql: string): Promise<number> {
    return Number((await pair.db.query<{ n: string }>(sql)).rows[0]?.n);
  }

  /**
   * Runs `check` with a client per replica trusting every CA made so far (whichever signs its
   * serving certificate now); a failed call (e.g. a CA made since) counts as "not yet".
   */
  async function withClients(
    check: (clients: HallmarkClient[]) => Promise<boolean>,
  ): Promise<boolean> {
    const cas = await pair.db.query<{ cert_pem: string }>('SELECT cert_pem FROM ca_authorities');
    const trust = cas.rows.map((row) => row.cert_pem).join('');
    const clients = [pair.a.url, pair.b.url].map((url) => new HallmarkClient(url, trust));
    try {
      return await check(clients);
    } catch {
      return false;
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }

  it('prepares and activates each CA once, and both replicas serve and sign with the same one', async () => {
    await until(
      `${ROTATIONS} scheduled activations`,
      async () =>
        (await count(
          "SELECT count(*) AS n FROM audit_log WHERE action = 'ca.activated' AND actor = 'system'",
        )) >= ROTATIONS,
      45_000,
      200,
    );
    // A step's audit row commits with it and joins the chain moments later: wait for a moment
    // when rows and chained audit rows agree. A step done twice would never agree (or fail the unique index).
    await until(
      'CA rows and their audit rows to agree',
      async () => {
        const [cas, activated, prepared, activations] = await Promise.all([
          count('SELECT count(*) AS n FROM ca_authorities'),
          count('SELECT count(*) AS n FROM ca_authorities WHERE activated_at IS NOT NULL'),
          count("SELECT count(*) AS n FROM audit_log WHERE action = 'ca.prepared'"),
          count("SELECT count(*) AS n FROM audit_log WHERE action = 'ca.activated'"),
        ]);
        return cas === prepared + 1 && activated === activations + 1;
      },
      5_000,
      50,
    );
    const steps = await pair.db.query<{ action: string; actor: string }>(
      "SELECT action, actor FROM audit_log WHERE action LIKE 'ca.%' ORDER BY seq",
    );
    const actions = steps.rows.map((row) => row.action).join(' ');
    // One bootstrap, then strictly prepare → activate → prepare → ...: never a step twice.
    expect(actions).toMatch(/^ca\.created( ca\.prepared ca\.activated)+( ca\.prepared)?$/);
    expect(new Set(steps.rows.map((row) => row.actor))).toEqual(new Set(['system']));
    for (const replica of [pair.a, pair.b]) {
      expect(replica.cli.stdout()).not.toMatch(/CA rotation check failed/);
    }
    // Which replica did which step: together exactly the audited steps, none done by both.
    const byReplica = await until(
      'both replicas to have logged their steps',
      async () => stepsLogged(pair.a).length + stepsLogged(pair.b).length >= steps.rows.length,
      5_000,
      50,
    ).then(() => [stepsLogged(pair.a), stepsLogged(pair.b)]);
    expect(byReplica.flat().sort()).toEqual(steps.rows.map((row) => row.action).sort());

    // Both serve the bundle PostgreSQL says is current, and sign with the active CA. Rotation
    // goes on meanwhile, so each attempt trusts the CAs of that moment.
    await until(
      'both replicas to serve the current bundle',
      () =>
        withClients(async (clients) => {
          const stored = await count('SELECT sequence AS n FROM bundle_state');
          const served = await Promise.all(
            clients.map(async (c) => (await c.call('GET', '/v1/bundle')).body.spiffe_sequence),
          );
          return served.every((sequence) => sequence === stored);
        }),
      5_000,
      50,
    );
    const projected = await pair.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    const policy = 'workloads:\n  - namespace: payments\n    serviceAccount: api\n';
    await until(
      'the policy to load',
      () =>
        withClients(async ([a]) => {
          const admin = await a?.call('POST', '/v1/authn/apikey', {
            body: { id: 'admin', api_key: pair.adminKey },
          });
          const token = admin?.body.token as string;
          return (await a?.call('PUT', '/v1/policy', { yaml: policy, token }))?.status === 200;
        }),
      5_000,
      50,
    );
    await until(
      'an SVID from each replica signed by the active CA',
      () =>
        withClients(async (clients) => {
          const active = await pair.db.query<{ cert_pem: string }>(
            "SELECT cert_pem FROM ca_authorities WHERE status = 'active'",
          );
          const ca = new X509Certificate(active.rows[0]?.cert_pem as string);
          const svids = await Promise.all(
            clients.map((c) => requestSvid(c, projected, workloadKey())),
          );
          return svids.every(
            (s) =>
              s.status === 200 && new X509Certificate(s.body.svid as string).verify(ca.publicKey),
          );
        }),
      5_000,
      50,
    );
    expect(await verifyAuditChain(pair.db)).toMatchObject({ ok: true });
    console.info(
      `[replicas] scheduled CA rotation (HALLMARK_CA_TTL=${CA_TTL}): ${actions.split(' ').length} steps, each once ` +
        `(${byReplica[0]?.length} by A, ${byReplica[1]?.length} by B): ${actions}`,
    );
  });
});
