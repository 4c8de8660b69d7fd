// Strangers' cost is bounded: a flood of junk bearer tokens from one address, through the real
// server over HTTPS and the test Kubernetes API, costs at most the TokenReview cap and a bounded
// number of audit rows, and a real pod at the same address is served right after.
import pg from 'pg';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

const POLICY = `
workloads:
  - namespace: payments
    serviceAccount: api
`;
const CAP = 32; // HALLMARK_TOKENREVIEW_CONCURRENCY's default
const FLOOD = 500;

interface Call {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface Answer {
  path: string;
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
}

/** A burst in progress: how many have been answered so far, and all answers at the end. */
interface Flood {
  answered(): number;
  done: Promise<Answer[]>;
}

/** Sends `count` requests at once, each on its own connection (its own TCP and TLS session). */
function startFlood(stack: HallmarkStack, count: number, make: (i: number) => Call): Flood {
  const agent = new Agent({
    // Generous: hundreds of handshakes at once on a busy machine; bounded all the same.
    connect: { ca: stack.server.ca.bundle().certificatesPem.join(''), timeout: 60_000 },
    pipelining: 0,
  });
  let answered = 0;
  const done = Promise.all(
    Array.from({ length: count }, async (_, i): Promise<Answer> => {
      const call = make(i);
      const response = await request(`${stack.server.url}${call.path}`, {
        method: call.method,
        headers: call.headers,
        body: call.body,
        dispatcher: agent,
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
      });
      const body = (await response.body.json().catch(() => ({}))) as {
        error?: { code?: string };
      };
      const retryAfter = response.headers['retry-after'];
      answered += 1;
      return {
        path: call.path,
        status: response.statusCode,
        code: body.error?.code,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
      };
    }),
  ).finally(() => agent.close());
  return { answered: () => answered, done };
}

/**
 * Floods while the Kubernetes API holds every call, and releases them once each request is
 * either answered or held there: whatever the machine's speed, what reaches the API is what
 * was in flight at once.
 */
async function floodSlowApi(stack: HallmarkStack, count: number, make: (i: number) => Call) {
  stack.k8s.hold();
  const flood = startFlood(stack, count, make);
  try {
    await waitFor(async () => flood.answered() + stack.k8s.inFlightNow() === count, 60_000);
  } finally {
    stack.k8s.release();
  }
  return flood.done;
}

const junkSvidRequest = (csr: string) => () => ({
  method: 'POST' as const,
  path: '/v1/svid/x509',
  headers: { authorization: 'Bearer a', 'content-type': 'application/json' },
  body: JSON.stringify({ csr }),
});

async function auditCount(db: pg.ClientBase | HallmarkStack, sql: string): Promise<number> {
  // A running server first chains the rows changes staged (the SVID issued).
  if ('server' in db) await db.server.audit.settle();
  const result =
    'server' in db
      ? await db.server.db.query<{ n: string }>(sql)
      : await db.query<{ n: string }>(sql);
  return Number(result.rows[0]?.n ?? 0);
}

/** Sum of the counts in `http.preauth.throttled` rows for 127.0.0.1. */
const THROTTLED_SUM = `SELECT coalesce(sum(substring(target from 'count=([0-9]+)')::int), 0) AS n
  FROM audit_log WHERE action = 'http.preauth.throttled' AND target LIKE 'addr=127.0.0.1 %'`;

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('pre-authentication limits', () => {
  let stack: HallmarkStack | undefined;
  const csr = buildCsr(generateKeyPair('ec-p256'));
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it(
    'a flood of junk tokens from one address: at most the cap of TokenReviews, the rest 429 ' +
      'with Retry-After, bounded audit rows, and a real pod there is served within 2 s',
    async () => {
      // The server's own limits, a Kubernetes timeout longer than the API is held, and a tally
      // interval longer than the test: its one row is written at shutdown.
      stack = await startStack({
        policy: POLICY,
        realLimits: true,
        env: { HALLMARK_PREAUTH_AUDIT_INTERVAL: '1h', HALLMARK_K8S_TIMEOUT: '60s' },
      });
      stack.k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
      const podToken = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
      const rowsBefore = await auditCount(stack, 'SELECT count(*) AS n FROM audit_log');
      stack.k8s.clearRequests();

      const burstStart = Date.now();
      const answers = await floodSlowApi(stack, FLOOD, junkSvidRequest(csr));
      const burstEnd = Date.now();

      const reviews = stack.k8s.requests().filter((r) => r.resource === 'tokenreviews').length;
      // The address's bucket admits 20 at once and 2 more a second (the defaults) ...
      expect(reviews).toBeLessThanOrEqual(20 + Math.ceil((2 * (burstEnd - burstStart)) / 1000));
      // ... and the cap refuses whatever the bucket admitted beyond 32 reviews in flight.
      const refused = answers.filter((a) => a.status === 403);
      const throttled = answers.filter((a) => a.status === 429);
      expect(reviews).toBeGreaterThan(0);
      expect(reviews).toBeLessThanOrEqual(CAP);
      // Every request is either reviewed and refused, or throttled without a Kubernetes call.
      expect(refused.length).toBe(reviews);
      expect(refused.every((a) => a.code === 'ERR_ATTEST_TOKEN_INVALID')).toBe(true);
      expect(throttled.length).toBe(FLOOD - reviews);
      expect(throttled.every((a) => a.code === 'ERR_REQUEST_RATE_LIMITED')).toBe(true);
      expect(throttled.every((a) => Number(a.retryAfter) >= 1)).toBe(true);

      // The real pod, from the same address, honours Retry-After and gets its SVID in time.
      let served: { status: number; body: Record<string, unknown> } | undefined;
      let podThrottled = 0;
      while (Date.now() - burstEnd < 2_000) {
        const response = await request(`${stack.server.url}/v1/svid/x509`, {
          method: 'POST',
          headers: { authorization: `Bearer ${podToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ csr }),
          dispatcher: stack.agent(),
        });
        const body = (await response.body.json()) as Record<string, unknown>;
        if (response.statusCode !== 429) {
          served = { status: response.statusCode, body };
          break;
        }
        podThrottled += 1;
        const wait = Number(response.headers['retry-after']) * 1000;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      expect(Date.now() - burstEnd).toBeLessThan(2_000);
      expect(served?.status).toBe(200);
      expect(served?.body.spiffe_id).toBe('spiffe://hallmark.local/ns/payments/sa/api');

      // Audit: one row per reviewed refusal, the throttled counted in one aggregated row.
      const { databaseUrl } = stack;
      await stack.close();
      stack = undefined;
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        expect(await auditCount(db, THROTTLED_SUM)).toBe(throttled.length + podThrottled);
        expect(
          await auditCount(
            db,
            `SELECT count(*) AS n FROM audit_log WHERE reason = 'ERR_ATTEST_TOKEN_INVALID'`,
          ),
        ).toBe(refused.length);
        const rowsAdded =
          (await auditCount(db, 'SELECT count(*) AS n FROM audit_log')) - rowsBefore;
        // For 500 requests: the reviewed refusals (≤ 32), the tally's row, the SVID issued.
        expect(rowsAdded).toBe(refused.length + 2);
        expect(rowsAdded).toBeLessThanOrEqual(CAP + 2);
      } finally {
        await db.end();
      }
    },
    60_000,
  );

  it(
    'caps TokenReviews in flight over all callers: beyond the cap 429 with Retry-After, ' +
      'no Kubernetes call, and no row of its own',
    async () => {
      // The per-address limit lifted, so only the cap stands between the flood and a slow API.
      stack = await startStack({ policy: POLICY, env: { HALLMARK_K8S_TIMEOUT: '60s' } });
      stack.k8s.clearRequests();
      const answers = await floodSlowApi(stack, FLOOD, junkSvidRequest(csr));

      const reviews = stack.k8s.requests().filter((r) => r.resource === 'tokenreviews').length;
      const throttled = answers.filter((a) => a.status === 429);
      expect(reviews).toBe(CAP);
      expect(stack.k8s.maxInFlight()).toBe(CAP);
      expect(throttled.every((a) => a.code === 'ERR_REQUEST_RATE_LIMITED')).toBe(true);
      expect(throttled.every((a) => Number(a.retryAfter) >= 1)).toBe(true);
      expect(answers.filter((a) => a.status === 403).length).toBe(reviews);
      expect(throttled.length).toBe(FLOOD - reviews);
      // Refused at the cap: counted in the tally at shutdown, never one row each.
      const { databaseUrl } = stack;
      await stack.close();
      stack = undefined;
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        expect(
          await auditCount(
            db,
            `SELECT count(*) AS n FROM audit_log WHERE action = 'svid.x509.denied' AND reason = 'ERR_REQUEST_RATE_LIMITED'`,
          ),
        ).toBe(0);
        expect(await auditCount(db, THROTTLED_SUM)).toBe(throttled.length);
      } finally {
        await db.end();
      }
    },
    60_000,
  );

  it(
    'guards the secret, API-key and broker routes too, leaves public reads alone, and ' +
      'writes the tally at shutdown',
    async () => {
      stack = await startStack({
        realLimits: true,
        env: {
          HALLMARK_PREAUTH_AUDIT_INTERVAL: '1h',
          HALLMARK_BROKER_USERNAME: 'platform',
          HALLMARK_BROKER_PASSWORD: 'correct-horse-battery',
        },
      });
      const routes: Call[] = [
        { method: 'GET', path: '/v1/secrets/app/db', headers: { authorization: 'Bearer a' } },
        {
          method: 'POST',
          path: '/v1/authn/apikey',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: 'nobody', api_key: 'hmk_wrong' }),
        },
        {
          method: 'GET',
          path: '/v2/catalog',
          headers: {
            authorization: `Basic ${Buffer.from('platform:wrong').toString('base64')}`,
            'x-broker-api-version': '2.17',
          },
        },
      ];
      // 90 strangers' requests, and 10 public reads in their midst.
      const publicReads: Call[] = [
        { method: 'GET', path: '/v1/bundle', headers: {} },
        { method: 'GET', path: '/healthz', headers: {} },
      ];
      const burstStart = Date.now();
      const answers = await startFlood(stack, 100, (i) =>
        i % 10 === 9 ? (publicReads[i % 2] as Call) : (routes[i % 3] as Call),
      ).done;
      const seconds = (Date.now() - burstStart) / 1000;
      const isPublic = (a: Answer) => publicReads.some((p) => p.path === a.path);
      const guarded = answers.filter((a) => !isPublic(a));
      const throttled = guarded.filter((a) => a.status === 429);
      expect(guarded).toHaveLength(90);
      // 20 tokens, refilled at 2 a second (the defaults): the rest refused before any work.
      expect(throttled.length).toBeGreaterThanOrEqual(90 - 20 - Math.ceil(2 * seconds));
      expect(throttled.every((a) => Number(a.retryAfter) >= 1)).toBe(true);
      expect(guarded.filter((a) => a.status !== 429).every((a) => a.status === 401)).toBe(true);
      for (const route of routes) {
        expect(throttled.some((a) => a.path === route.path)).toBe(true);
      }
      // The public bundle and the probes answer whatever the address's bucket holds.
      expect(answers.filter(isPublic).map((a) => a.status)).toEqual(Array(10).fill(200));

      const { databaseUrl } = stack;
      await stack.close();
      stack = undefined;
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        expect(await auditCount(db, THROTTLED_SUM)).toBe(throttled.length);
        expect(
          await auditCount(
            db,
            `SELECT count(*) AS n FROM audit_log WHERE action = 'http.preauth.throttled'`,
          ),
        ).toBe(1);
      } finally {
        await db.end();
      }
    },
    60_000,
  );
});
