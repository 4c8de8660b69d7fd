// The sidecar noticing a distrusted CA: bundle polls, refusals, the refresh loop and the feed.
import { describe, expect, it } from 'vitest';
import type { HallmarkError } from '../../src/errors/index.js';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import {
  INITIAL_REFRESH_STATE,
  MAX_POLL_MS,
  MIN_POLL_MS,
  RefreshLoop,
  ServerRefusal,
  chainReachesBundle,
  nextPollDelay,
  planRefresh,
  watchForDistrust,
  withFailure,
  withSvid,
  withSvidDistrusted,
} from '../../sidecar/index.js';
import type { JwtServerApi, X509TrustBundle } from '../../sidecar/index.js';
import { IdentityFeed } from '../../sidecar/identity-feed.js';
import { ManualTimers, MemoryLogger, ScriptedSource } from './fakes.js';
import { createTestPki, issueTestSvid } from './test-pki.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { MemoryCredentialStore } from '../doubles/memory-credential-store.js';

const T0 = Date.UTC(2026, 0, 1);
const ID = 'spiffe://hallmark.local/ns/payments/sa/api';
const distrusted = (): HallmarkError =>
  new ServerRefusal('ERR_AUTHN_CA_DISTRUSTED', 401, 'POST /v1/authn/login: 401');

describe('chainReachesBundle', async () => {
  const clock = new ManualClock(T0);
  const pki = await createTestPki(clock);
  const other = await createTestPki(clock);
  const svid = await issueTestSvid(pki, buildCsr(generateKeyPair('ec-p256')), ID, 3600, clock);

  it('holds while the CA that signed the SVID is in the bundle, and not once it left', () => {
    expect(chainReachesBundle(svid.chainPem, [pki.bundlePem])).toBe(true);
    expect(chainReachesBundle(svid.chainPem, [other.bundlePem, pki.bundlePem])).toBe(true);
    expect(chainReachesBundle(svid.chainPem, [other.bundlePem])).toBe(false);
    expect(chainReachesBundle(svid.chainPem, [])).toBe(false);
  });
});

describe('the schedule', () => {
  it('polls at the refresh hint within 5 s..5 min, and backs off after failures', () => {
    expect(nextPollDelay(undefined, 0, () => 0.5)).toBe(MIN_POLL_MS);
    expect(nextPollDelay(60_000, 0, () => 0.5)).toBe(60_000);
    expect(nextPollDelay(1, 0, () => 0.5)).toBe(MIN_POLL_MS);
    expect(nextPollDelay(10 * MAX_POLL_MS, 0, () => 0.5)).toBe(MAX_POLL_MS);
    expect(nextPollDelay(60_000, 3, () => 0.5)).toBe(4_000);
  });

  it('renews a distrusted SVID now, even in the middle of a backoff', () => {
    const lifetime = { obtainedAt: T0, expiresAt: T0 + 3_600_000, renewAt: T0 + 1_800_000 };
    const state = withFailure(
      withSvid(INITIAL_REFRESH_STATE, lifetime),
      T0,
      'ERR_SIDECAR_SERVER_UNREACHABLE',
      () => 0.5,
    );
    expect(planRefresh(state, T0 + 10).renewSvid).toBe(false);
    const now = T0 + 10;
    expect(planRefresh(withSvidDistrusted(state, now), now).renewSvid).toBe(true);
    expect(withSvidDistrusted(INITIAL_REFRESH_STATE, now)).toBe(INITIAL_REFRESH_STATE);
  });
});

describe('watchForDistrust', async () => {
  const clock = new ManualClock(T0);
  const pki = await createTestPki(clock);
  const next = await createTestPki(clock);
  const svid = await issueTestSvid(pki, buildCsr(generateKeyPair('ec-p256')), ID, 3600, clock);

  function watch(bundles: X509TrustBundle[], jwtError?: Error) {
    const timers = new ManualTimers(clock);
    const reports: [string, string][] = [];
    let fetches = 0;
    const jwtApi: JwtServerApi = {
      issueJwtSvid: async () => {
        if (jwtError) throw jwtError;
        return { spiffeId: ID, token: 't', expiresAt: 0 };
      },
      jwtAuthorities: async () => ({ keys: [], refreshHintMs: 5_000 }),
    };
    const running = watchForDistrust({
      api: {
        issueSvid: () => Promise.reject(new Error('unused')),
        login: () => Promise.reject(new Error('unused')),
        trustBundle: async () => bundles[Math.min(fetches++, bundles.length - 1)]!,
      },
      jwtApi,
      currentChain: () => svid.chainPem,
      distrusted: (chainPem, reason) => reports.push([chainPem, reason.code]),
      clock,
      timers,
      random: () => 0.5,
    });
    const poll = async (): Promise<number> => {
      const timer = timers.earliest()!;
      timers.clear(timer.id);
      clock.set(Math.max(clock.now(), timer.due));
      timer.callback();
      await new Promise((resolve) => setImmediate(resolve));
      return timer.due;
    };
    return { running, reports, timers, poll };
  }

  it('reports the SVID as soon as a polled bundle no longer leads to its CA', async () => {
    const kept = { anchorsPem: [pki.bundlePem], sequence: 1, refreshHintMs: 20_000 };
    const moved = { anchorsPem: [next.bundlePem], sequence: 2, refreshHintMs: 20_000 };
    const { running, reports, timers, poll } = watch([kept, moved]);
    const start = clock.now();
    expect((await poll()) - start).toBe(MIN_POLL_MS);
    expect(reports).toEqual([]);
    expect(timers.earliest()!.due - clock.now()).toBe(20_000);
    await poll();
    expect(reports).toEqual([[svid.chainPem, 'ERR_AUTHN_CA_DISTRUSTED']]);
    running.stop();
    expect(timers.pending.size).toBe(0);
  });

  it('reports the SVID a JWT-SVID request was refused for, and passes the refusal on', async () => {
    const { running, reports } = watch([], distrusted());
    const client = { chainPem: svid.chainPem, keyPem: 'k' };
    await expect(running.jwtApi.issueJwtSvid(client, ['db'])).rejects.toMatchObject({
      code: 'ERR_AUTHN_CA_DISTRUSTED',
    });
    expect(reports).toEqual([[svid.chainPem, 'ERR_AUTHN_CA_DISTRUSTED']]);
    running.stop();
  });
});

describe('the refresh loop and the Workload API feed', () => {
  it('renews at once when login refuses the SVID for its CA, and the feed stops serving it', async () => {
    const clock = new ManualClock(T0);
    const timers = new ManualTimers(clock);
    const source = new ScriptedSource(clock, 3_600_000, 480_000);
    const store = new MemoryCredentialStore();
    const loop = new RefreshLoop({
      source,
      store,
      clock,
      timers,
      log: new MemoryLogger(),
      random: () => 0.5,
    });
    const feed = new IdentityFeed({ clock, timers });
    const withdrawn: string[] = [];
    loop.onSvidDistrusted((chainPem, reason) => {
      withdrawn.push(chainPem);
      feed.withdraw(chainPem, reason);
    });
    loop.start();
    await loop.tick();
    expect(store.svid?.chainPem).toBe('chain 1');

    // The next token renewal is refused for the SVID's CA.
    source.tokenError = distrusted();
    clock.set(T0 + 360_000);
    await loop.tick();
    expect(withdrawn).toEqual(['chain 1']);
    source.tokenError = undefined;
    // The renewal is due now, not after the backoff the failure would have started.
    expect(timers.earliest()!.due - clock.now()).toBeLessThanOrEqual(50);
    clock.advance(50);
    await loop.tick();
    expect(store.svid?.chainPem).toBe('chain 2');
    expect(source.lastLoginWith).toBe('chain 2');
    // A stale report (the SVID was renewed meanwhile) changes nothing.
    loop.svidDistrusted('chain 1', distrusted());
    expect(withdrawn).toEqual(['chain 1']);
    await loop.stop();
  });

  it('the feed serves a withdrawn SVID no more, and the next one again', async () => {
    const clock = new ManualClock(T0);
    const feed = new IdentityFeed({ clock, timers: new ManualTimers(clock) });
    const pki = await createTestPki(clock);
    const obtained = async (n: number) => {
      const keyPair = generateKeyPair('ec-p256');
      const svid = await issueTestSvid(pki, buildCsr(keyPair), ID, 3600, clock);
      return {
        files: {
          chainPem: svid.chainPem,
          keyPem: String(keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' })),
          bundlePem: pki.bundlePem,
        },
        spiffeId: ID,
        expiresAt: T0 + n * 3_600_000,
      };
    };
    const first = await obtained(1);
    feed.publish(first);
    const seen: (string | undefined)[] = [];
    feed.subscribe((snapshot) => seen.push(snapshot.svid?.chainPem ?? snapshot.error?.code));
    feed.withdraw(first.files.chainPem, distrusted());
    expect(feed.snapshot().svid).toBeUndefined();
    expect(feed.snapshot().latest?.chainPem).toBe(first.files.chainPem);
    const second = await obtained(2);
    feed.publish(second);
    feed.withdraw(first.files.chainPem, distrusted()); // stale: changes nothing
    expect(seen).toEqual(['ERR_WORKLOADAPI_SVID_UNAVAILABLE', second.files.chainPem]);
  });
});
