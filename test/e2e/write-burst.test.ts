// A burst of secret writes through the real server: none starves the pool, each version has its row.
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

const WRITERS = 100;

describe('100 concurrent PUTs to one path and 100 to distinct paths (default pool of 20)', () => {
  let stack: HallmarkStack;
  let admin: Record<string, string>;

  beforeAll(async () => {
    stack = await startStack();
    const adminKey = (await readFile(stack.server.admin.file, 'utf8')).trim();
    const login = await stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'admin', api_key: adminKey },
    });
    admin = { authorization: `Bearer ${login.body.token as string}` };
  });
  afterAll(() => stack.close());

  it('answers every write within 2 s, /readyz within 100 ms, one audit row per version', async () => {
    // Connections (and their TLS handshakes) are opened first, so the burst measures the server.
    const writers = stack.agent();
    await Promise.all(
      Array.from({ length: 2 * WRITERS }, () =>
        stack.call('GET', '/healthz', { dispatcher: writers }),
      ),
    );
    const probe = stack.agent();
    expect((await stack.call('GET', '/readyz', { dispatcher: probe })).status).toBe(200);

    let bursting = true;
    const readyz: { status: number; ms: number }[] = [];
    const probing = (async () => {
      while (bursting) {
        const started = performance.now();
        const { status } = await stack.call('GET', '/readyz', { dispatcher: probe });
        readyz.push({ status, ms: performance.now() - started });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const paths = [
      ...Array.from({ length: WRITERS }, () => 'burst/shared'),
      ...Array.from({ length: WRITERS }, (_, i) => `burst/own-${i}`),
    ];
    const answers = await Promise.all(
      paths.map(async (path, i) => {
        const started = performance.now();
        const { status, body } = await stack.call('PUT', `/v1/secrets/${path}`, {
          body: { value: `value-${i}` },
          headers: admin,
          dispatcher: writers,
        });
        return {
          path,
          status,
          code: body.error?.code,
          version: body.version,
          ms: performance.now() - started,
        };
      }),
    );
    bursting = false;
    await probing;

    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(2_000);
    expect(readyz.length).toBeGreaterThan(0);
    expect(readyz.filter((r) => r.status !== 200)).toEqual([]);
    expect(Math.max(...readyz.map((r) => r.ms))).toBeLessThan(100);

    // One path: versions 1..100, each answered once (no gap, no reuse).
    const shared = answers.filter((a) => a.path === 'burst/shared').map((a) => a.version as number);
    expect(shared.sort((a, b) => a - b)).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
    expect(answers.filter((a) => a.path !== 'burst/shared').every((a) => a.version === 1)).toBe(
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
    const answered = answers.map((a) => `${a.path}@v${a.version as number}`);
    expect(audited.size).toBe(answered.length);
    for (const target of answered) expect(audited.get(target)).toBe(1);
    const staged = await stack.server.db.query('SELECT 1 FROM audit_pending');
    expect(staged.rowCount).toBe(0);
    console.info(
      `[burst] ${answers.length} PUTs: slowest ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms; ` +
        `/readyz ${readyz.length} probes, slowest ${Math.max(...readyz.map((r) => r.ms)).toFixed(1)} ms`,
    );
  });
});
