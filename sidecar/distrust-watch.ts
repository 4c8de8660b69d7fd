// Noticing that the SVID's CA was distrusted: the trust bundle, polled at its refresh hint, no
// longer leads to it, or the server refuses it with ERR_AUTHN_CA_DISTRUSTED.
import { X509Certificate } from 'node:crypto';
import type { Clock } from '../src/clock/index.js';
import { HallmarkError } from '../src/errors/index.js';
import { backoffDelay } from './backoff.js';
import type { RandomSource } from './backoff.js';
import type { JwtServerApi } from './jwt-server-api.js';
import { realTimers } from './refresh-loop.js';
import type { Timers } from './refresh-loop.js';
import type { ClientCertificate, HallmarkServerApi, X509TrustBundle } from './server-api.js';

/** The server's code for an SVID whose CA was distrusted. */
export const CA_DISTRUSTED = 'ERR_AUTHN_CA_DISTRUSTED';

/**
 * Bounds on the poll interval: the server clamps its refresh hint to 5–300 s already (a CA
 * lifetime / 12), and a hint outside would be a server this sidecar should not trust blindly.
 */
export const MIN_POLL_MS = 5_000;
export const MAX_POLL_MS = 300_000;

function certificatesOf(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  return (blocks ?? []).map((block) => new X509Certificate(block));
}

/**
 * True when the chain (leaf first) leads to one of the anchors: one of its certificates is an
 * anchor or was signed by one. No time check: expiry is the refresh schedule's business, this
 * answers only "is the CA behind this SVID still in the bundle".
 */
export function chainReachesBundle(chainPem: string, anchorsPem: readonly string[]): boolean {
  const chain = certificatesOf(chainPem);
  const anchors = anchorsPem.flatMap(certificatesOf);
  return chain.some((certificate) =>
    anchors.some(
      (anchor) =>
        certificate.raw.equals(anchor.raw) ||
        (certificate.checkIssued(anchor) && certificate.verify(anchor.publicKey)),
    ),
  );
}

/** The delay before the next bundle poll: the hint, bounded, or backoff after failures. */
export function nextPollDelay(
  refreshHintMs: number | undefined,
  failures: number,
  random: RandomSource,
): number {
  if (failures > 0) return backoffDelay(failures, random);
  return Math.min(Math.max(refreshHintMs ?? MIN_POLL_MS, MIN_POLL_MS), MAX_POLL_MS);
}

/** Dependencies of {@link watchForDistrust}. */
export interface DistrustWatchDeps {
  readonly api: HallmarkServerApi;
  readonly jwtApi: JwtServerApi;
  /** The chain of the SVID served now, if any. */
  readonly currentChain: () => string | undefined;
  /** Called with the chain of an SVID whose CA is distrusted (the loop renews it). */
  readonly distrusted: (chainPem: string, reason: HallmarkError) => void;
  readonly clock: Clock;
  readonly timers?: Timers;
  readonly random?: RandomSource;
}

/** A running watch: the JWT transport to use (it reports refusals), and how to stop. */
export interface DistrustWatch {
  readonly jwtApi: JwtServerApi;
  stop(): void;
}

/**
 * Polls the trust bundle at its refresh hint and reports the current SVID when its chain no
 * longer reaches the bundle (its CA was distrusted); wraps the JWT-SVID transport so that a
 * refusal of the SVID for its CA is reported too. Login refusals the refresh loop sees itself.
 */
export function watchForDistrust(deps: DistrustWatchDeps): DistrustWatch {
  const timers = deps.timers ?? realTimers;
  const random = deps.random ?? Math.random;
  let timer: unknown;
  let stopped = false;
  let failures = 0;
  let hintMs: number | undefined;

  const check = (bundle: X509TrustBundle): void => {
    const chainPem = deps.currentChain();
    if (chainPem === undefined || chainReachesBundle(chainPem, bundle.anchorsPem)) return;
    deps.distrusted(
      chainPem,
      new HallmarkError(CA_DISTRUSTED, {
        detail: `its CA is not in the trust bundle (spiffe_sequence ${bundle.sequence})`,
      }),
    );
  };
  const poll = async (): Promise<void> => {
    timer = undefined;
    try {
      const bundle = await deps.api.trustBundle?.();
      if (stopped || bundle === undefined) return;
      failures = 0;
      hintMs = bundle.refreshHintMs;
      check(bundle);
    } catch {
      // The server is away or refused: the SVID stays as it is; try again with backoff.
      failures++;
    }
    arm();
  };
  const arm = (): void => {
    if (stopped || deps.api.trustBundle === undefined) return;
    timer = timers.set(() => void poll(), nextPollDelay(hintMs, failures, random));
  };
  arm();

  const jwtApi: JwtServerApi = {
    issueJwtSvid: async (client: ClientCertificate, audience: readonly string[]) => {
      try {
        return await deps.jwtApi.issueJwtSvid(client, audience);
      } catch (err) {
        if (err instanceof HallmarkError && err.code === CA_DISTRUSTED) {
          deps.distrusted(client.chainPem, err);
        }
        throw err;
      }
    },
    jwtAuthorities: () => deps.jwtApi.jwtAuthorities(),
  };
  return {
    jwtApi,
    stop() {
      stopped = true;
      if (timer !== undefined) timers.clear(timer);
      timer = undefined;
    },
  };
}
