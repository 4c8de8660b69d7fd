// Two workers whose CA ticks race every second: each rotation step is done once, and the primary keeps bundle.pem current.
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/index.js';
import { tempDataDir } from '../helpers/cli-process.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { until } from '../faults/support/load-loop.js';
import { startServerProcess, type ServerProcess } from '../faults/support/server-process.js';

describe('scheduled CA rotation with HALLMARK_WORKERS=2', () => {
  let dataDir: string;
  let server: ServerProcess;
  let db: Database;

  async function count(sql: string): Promise<number> {
    return Number((await db.query<{ n: string }>(sql)).rows[0]?.n);
  }

  beforeAll(async () => {
    dataDir = await tempDataDir('hallmark-worker-rotation-');
    const databaseUrl = await createEmptyDatabase();
    db = new Database(databaseUrl, { max: 2 });
    server = await startServerProcess(dataDir, {
      DATABASE_URL: databaseUrl,
      HALLMARK_MASTER_KEY: randomBytes(32).toString('base64'),
      HALLMARK_WORKERS: '2',
      // A 12 s CA lives 22 s: within ~20 s several steps come due, seen by both workers' 1 s ticks.
      HALLMARK_CA_TTL: '12s',
      // At info level each process logs the rotation steps it performed itself.
      HALLMARK_LOG_LEVEL: 'info',
    });
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    if (server && server.cli.child.exitCode === null) await server.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('prepares and activates each CA once, and bundle.pem follows the active CA', async () => {
    await until(
      'two scheduled activations',
      async () =>
        (await count("SELECT count(*) AS n FROM audit_log WHERE action = 'ca.activated'")) >= 2,
      60_000,
      200,
    );
    // A step's audit row commits with it: rows and audit agree; a step done twice would not.
    await until(
      'CA rows and their audit rows to agree',
      async () => {
        const [cas, prepared] = await Promise.all([
          count('SELECT count(*) AS n FROM ca_authorities'),
          count("SELECT count(*) AS n FROM audit_log WHERE action = 'ca.prepared'"),
        ]);
        return cas === prepared + 1;
      },
      5_000,
      50,
    );
    const steps = await db.query<{ action: string }>(
      "SELECT action FROM audit_log WHERE action LIKE 'ca.%' ORDER BY seq",
    );
    // One bootstrap, then strictly prepare → activate → prepare → ...: never a step twice.
    expect(steps.rows.map((row) => row.action).join(' ')).toMatch(
      /^ca\.created( ca\.prepared ca\.activated)+( ca\.prepared)?$/,
    );
    // The workers' ticks never collided on a step (the unique indexes would refuse the second).
    expect(server.cli.stdout()).not.toMatch(/rotation check failed/);
    // Each step is logged by the one process that did it.
    const logged = (server.cli.stdout().match(/"msg":"certificate authority rotated"/g) ?? [])
      .length;
    expect(logged).toBeGreaterThanOrEqual(steps.rows.length);
    expect(logged).toBeLessThanOrEqual(steps.rows.length + 1); // one more step may have come due
    await until(
      'bundle.pem to hold the active CA',
      async () => {
        const active = await db.query<{ cert_pem: string }>(
          "SELECT cert_pem FROM ca_authorities WHERE status = 'active'",
        );
        const file = await readFile(path.join(dataDir, 'bundle.pem'), 'utf8');
        const held = file
          .split(/(?<=-----END CERTIFICATE-----)\s*/)
          .filter((pem) => pem.includes('BEGIN'))
          .map((pem) => new X509Certificate(pem).fingerprint256);
        const pem = active.rows[0]?.cert_pem;
        return pem !== undefined && held.includes(new X509Certificate(pem).fingerprint256);
      },
      10_000,
      100,
    );
  }, 120_000);
});
