// Strangers through the real app: one IPv6 host is one caller, and many callers cannot flood the log.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { ManualClock } from '../doubles/manual-clock.js';
import {
  AddressBuckets,
  THROTTLED_ACTION,
  ThrottleTally,
  buildApp,
  createMetricsRegistry,
  type HallmarkApp,
} from '../../src/http/index.js';
import { HallmarkError } from '../../src/errors/index.js';
import { authenticate } from '../../src/http/bearer-authentication.js';
import { auditRequest, describeRequest } from '../../src/http/request-audit.js';
import { tableVerifier } from '../secrets/helpers/secret-test-app.js';
import { makeTestTls } from '../secrets/helpers/test-tls.js';

const tls = makeTestTls();
const material = { key: tls.serverKeyPem, cert: tls.serverCertPem, ca: [tls.caPem] };

/** The app with one route that authenticates its caller, as every guarded route does. */
async function app(rowsPerInterval: number) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const audit = new MemoryAuditLog(clock);
  const tally = new ThrottleTally({ audit, clock, maxRowsPerInterval: rowsPerInterval });
  const tokens = tableVerifier();
  const built = await buildApp({
    audit,
    preauth: { buckets: new AddressBuckets({ ratePerSecond: 1, burst: 5 }, clock), tally },
    tls: { current: () => material, onChange: () => () => undefined },
    readiness: async () => ({ ready: true }),
    metrics: createMetricsRegistry(),
    logger: false,
  });
  built.get<{ Params: { path: string } }>('/v1/secrets/:path', async (request) => {
    describeRequest(request, { action: 'secret.read', target: request.params.path });
    await authenticate(request, tokens);
    if (request.params.path === 'forbidden') throw new HallmarkError('ERR_AUTHN_NOT_ADMIN');
    await auditRequest(audit, request, 'success');
    return {};
  });
  return { app: built, audit, tally };
}

/** One junk-token request from `remoteAddress`: its status. */
async function junk(target: HallmarkApp, remoteAddress: string): Promise<number> {
  const response = await target.inject({
    method: 'GET',
    url: '/v1/secrets/x',
    headers: { authorization: 'Bearer junk' },
    remoteAddress,
  });
  return response.statusCode;
}

describe('pre-authentication limit, per caller', () => {
  let built: HallmarkApp | undefined;
  afterEach(async () => {
    await built?.close();
    built = undefined;
  });

  it('charges an IPv6 caller by its /64: a fresh address per request buys no fresh bucket', async () => {
    const { app: target, audit, tally } = await app(1_000);
    built = target;
    const statuses: number[] = [];
    for (let i = 1; i <= 200; i += 1) {
      statuses.push(
        await junk(target, `2001:db8:7:7:${i.toString(16)}:${(i * 13).toString(16)}::1`),
      );
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(5); // the burst
    expect(statuses.filter((s) => s === 429)).toHaveLength(195);
    // Another /64 is another caller.
    expect(await junk(target, '2001:db8:7:8::1')).toBe(401);
    await tally.flush();
    const throttled = audit.records.filter((r) => r.action === THROTTLED_ACTION);
    expect(throttled.map((r) => r.target.replace(/ since=\S+$/, ''))).toEqual([
      'addr=2001:db8:7:7::/64 count=195',
    ]);
  });

  it('bounds the rows of a flood from many addresses, each under its own limit, counting every refusal', async () => {
    const { app: target, audit, tally } = await app(50);
    built = target;
    const statuses: number[] = [];
    for (let i = 0; i < 300; i += 1)
      statuses.push(await junk(target, `10.9.${Math.floor(i / 250)}.${i % 250}`));
    // Every caller is within its bucket: each gets the answer its request deserves.
    expect(statuses.every((s) => s === 401)).toBe(true);
    const own = audit.records.filter((r) => r.action === 'secret.read');
    expect(own).toHaveLength(50);
    await tally.flush();
    const summed = audit.records.filter((r) => r.action === THROTTLED_ACTION);
    expect(summed.every((r) => r.reason === 'ERR_AUTHN_TOKEN_INVALID')).toBe(true);
    const counts = summed.map((r) => Number(/count=(\d+)/.exec(r.target)?.[1]));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(250);
    // The next interval has its own budget.
    expect(await junk(target, '10.9.9.9')).toBe(401);
    expect(audit.records.filter((r) => r.action === 'secret.read')).toHaveLength(51);
  });

  it('still writes a row for every decision about an authenticated caller', async () => {
    const { app: target, audit } = await app(1);
    built = target;
    expect(await junk(target, '10.0.0.2')).toBe(401); // the interval's one row for strangers
    expect(await junk(target, '10.0.0.3')).toBe(401); // counted
    for (const path of ['x', 'forbidden', 'y', 'forbidden']) {
      const response = await target.inject({
        method: 'GET',
        url: `/v1/secrets/${path}`,
        headers: { authorization: 'Bearer api-token' },
        remoteAddress: '10.0.0.1',
      });
      expect(response.statusCode).toBe(path === 'forbidden' ? 403 : 200);
    }
    const own = audit.records.filter((r) => r.action === 'secret.read');
    expect(own.map((r) => [r.actor === 'anonymous', r.outcome])).toEqual([
      [true, 'denied'],
      [false, 'success'],
      [false, 'denied'],
      [false, 'success'],
      [false, 'denied'],
    ]);
  });
});
