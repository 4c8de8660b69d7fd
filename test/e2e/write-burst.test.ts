// A burst of secret writes through the real server: none starves the pool, each version has its row.
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';
import { sendBurst } from './burst-client.js';

const WRITERS = 100;

describe('100 concurrent PUTs to one path and 100 to distinct paths (default pool of 20)', () => {
  let stack: HallmarkStack;
  let token: string;

  beforeAll(async () => {
    stack = await startStack();
    const adminKey = (await readFile(stack.server.admin.file, 'utf8')).trim();
    const login = await stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'admin', api_key: adminKey },
    });
    token = login.body.token as string;
  });
  afterAll(() => stack.close());

  it('answers every write within 2 s, /readyz at once without a pooled connection, one row per version', async () => {
    const paths = [
      ...Array.from({ length: WRITERS }, () => 'burst/shared'),
      ...Array.from({ length: WRITERS }, (_, i) => `burst/own-${i}`),
    ];
    const probe = stack.agent();
    expect((await stack.call('GET', '/readyz', { dispatcher: probe })).status).toBe(200);
    const { answers, observed: readyz } = await sendBurst(
      {
        url: stack.server.url,
        ca: stack.server.ca.bundle().certificatesPem.join(''),
        headers: { authorization: `Bearer ${token}` },
      },
      paths.map((path, i) => ({
        method: 'PUT',
        path: `/v1/secrets/${path}`,
        body: JSON.stringify({ value: `value-${i}` }),
      })),
      async (done) => {
        const probes: { status: number; ms: number; poolWaiting: number }[] = [];
        while (!done()) {
          const started = performance.now();
          // Callers waiting for a pooled connection right now (0: readers get one at once).
          const poolWaiting = stack.server.db.pool.waitingCount;
          const { status } = await stack.call('GET', '/readyz', { dispatcher: probe });
          probes.push({ status, ms: performance.now() - started, poolWaiting });
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return probes;
      },
    );
    const written = answers.map((answer, i) => ({
      path: paths[i] as string,
      status: answer.status,
      version: (JSON.parse(answer.text) as { version?: number }).version,
      ms: answer.ms,
    }));

    expect(written.filter((w) => w.status !== 200)).toEqual([]);
    expect(Math.max(...written.map((w) => w.ms))).toBeLessThan(2_000);
    expect(readyz.length).toBeGreaterThan(0);
    expect(readyz.filter((r) => r.status !== 200)).toEqual([]);
    // The pool is never exhausted: no database user ever waits for a connection. /readyz takes
    // no pooled connection at all (the writers' commits prove PostgreSQL up): the typical probe
    // meets the 100 ms target, and the slowest, which a stall of this shared machine's event
    // loop may hold up, stays far under the 5 s a probe queued behind the pool would wait.
    expect(Math.max(...readyz.map((r) => r.poolWaiting))).toBe(0);
    const sorted = readyz.map((r) => r.ms).sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(100);
    expect(sorted.at(-1)).toBeLessThan(1_000);

    // One path: versions 1..100, each answered once (no gap, no reuse).
    const shared = written.filter((w) => w.path === 'burst/shared').map((w) => w.version);
    expect(shared.sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: WRITERS }, (_, i) => i + 1),
    );
    expect(written.filter((w) => w.path !== 'burst/shared').every((w) => w.version === 1)).toBe(
      true,
    );

    // Every answered version has exactly one audit row, and no row names another version.
    await stack.server.audit.settle();
    const rows = await stack.server.db.query<{ target: string; n: string }>(
      `SELECT target, count(*) AS n FROM audit_log
        WHERE action = 'secret.write' AND outcome = 'success' AND target LIKE 'burst/%'
        GROUP BY target`,
    );
    const audited = new Map(rows.rows.map((row) => [row.target, Number(row.n)]));
    const answered = written.map((w) => `${w.path}@v${w.version as number}`);
    expect(audited.size).toBe(answered.length);
    for (const target of answered) expect(audited.get(target)).toBe(1);
    const staged = await stack.server.db.query('SELECT 1 FROM audit_pending');
    expect(staged.rowCount).toBe(0);
    console.info(
      `[burst] ${written.length} PUTs: slowest ${Math.round(Math.max(...written.map((w) => w.ms)))} ms; ` +
        `/readyz ${readyz.length} probes, slowest ${Math.max(...readyz.map((r) => r.ms)).toFixed(1)} ms: ${readyz.map((r) => Math.round(r.ms)).join(' ')}`,
    );
  });

  it('/readyz needs no pooled connection: it answers 200 at once while every one is taken', async () => {
    const pool = stack.server.db.pool;
    const held = [];
    try {
      while (pool.totalCount < (pool.options.max ?? 20) || pool.idleCount > 0)
        held.push(await pool.connect());
      const probe = stack.agent();
      for (let i = 0; i < 5; i++) {
        // Each a second apart, so the pool's last activity is stale and the probe itself runs.
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1_100));
        const started = performance.now();
        const { status } = await stack.call('GET', '/readyz', { dispatcher: probe });
        // Liveness bound: waiting for a pooled connection would take its 5 s timeout, then 503.
        expect({ status, slow: performance.now() - started > 1_000 }).toEqual({
          status: 200,
          slow: false,
        });
      }
    } finally {
      for (const client of held) client.release();
    }
  });
});
