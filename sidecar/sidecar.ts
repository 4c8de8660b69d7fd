// The sidecar assembled: refresh loop, credential files, server transport, health listener and
// SPIFFE Workload API; long-running (startSidecar) or init-container (runSidecarOnce).
import { pino } from 'pino';
import { systemClock } from '../src/clock/index.js';
import type { Clock } from '../src/clock/index.js';
import { ConfigError } from '../src/config/index.js';
import { HallmarkError } from '../src/errors/index.js';
import type { BackoffPolicy, RandomSource } from './backoff.js';
import { CredentialDirectory } from './credential-files.js';
import type { CredentialStore } from './credential-files.js';
import { ServerCredentialSource } from './credential-source.js';
import { watchForDistrust } from './distrust-watch.js';
import { startHealthServer } from './health-server.js';
import type { HealthReport, HealthServer } from './health-server.js';
import { ClientServerApi } from './client-server-api.js';
import { followFederatedBundles } from './federated-bundle-feed.js';
import type { FederatedBundleApi, FederatedBundleFeed } from './federated-bundle-feed.js';
import { IdentityFeed } from './identity-feed.js';
import { ClientJwtServerApi } from './jwt-server-api.js';
import type { JwtServerApi } from './jwt-server-api.js';
import type { PhaseChange, SidecarLogger } from './phase-change.js';
import { ProjectedTokenFile } from './projected-token.js';
import type { ProjectedTokenSource } from './projected-token.js';
import { RefreshLoop, realTimers } from './refresh-loop.js';
import type { RefreshAttempt, Timers } from './refresh-loop.js';
import { credentialsFresh } from './refresh-schedule.js';
import type { RefreshState, SidecarPhase } from './refresh-schedule.js';
import { isDefinitiveRefusal } from './server-api.js';
import type { HallmarkServerApi } from './server-api.js';
import { ServerTrustFiles } from './server-trust.js';
import type { SidecarConfig } from './sidecar-config.js';
import { SidecarMetrics } from './sidecar-metrics.js';
import { SvidPublisher } from './svid-publisher.js';
import { startWorkloadApi } from './workload-api-server.js';
import type { WorkloadApiServer } from './workload-api-server.js';

/** Everything {@link startSidecar} would otherwise make itself; tests replace parts. */
export interface SidecarDeps {
  readonly clock?: Clock;
  /** Jitter source, [0, 1); default `Math.random` (jitter needs spread, not secrecy). */
  readonly random?: RandomSource;
  /** Default: pino JSON lines on stdout. */
  readonly log?: SidecarLogger;
  /** Default: HTTPS to `config.serverUrl`, trusting `HALLMARK_SERVER_BUNDLE` + `bundle.pem`. */
  readonly api?: HallmarkServerApi;
  /** Default: the file at `config.tokenPath`. */
  readonly projectedToken?: ProjectedTokenSource;
  /** Default: the directory `config.outputDir`. */
  readonly store?: CredentialStore;
  readonly timers?: Timers;
  readonly backoff?: BackoffPolicy;
  /** Default true: serve `/healthz` and `/metrics` on `config.healthListen`. */
  readonly healthServer?: boolean;
  /**
   * The Workload API's JWT-SVID calls (`POST /v1/svid/jwt`, `GET /v1/bundle`). Default: HTTPS
   * to `config.serverUrl` with the same trust as `api`.
   */
  readonly jwtApi?: JwtServerApi;
  /** `GET /v1/bundle/federated` (mTLS). Default: the same transport as `jwtApi`'s default. */
  readonly federatedApi?: FederatedBundleApi;
}

/** A running sidecar. */
export interface SidecarHandle {
  readonly phase: SidecarPhase | undefined;
  readonly state: RefreshState;
  /** The health listener, when started. */
  readonly health: HealthServer | undefined;
  /** The SPIFFE Workload API, when `config.workloadApiSocket` is set. */
  readonly workloadApi: WorkloadApiServer | undefined;
  /**
   * The X509-SVID as served over the Workload API: `subscribe` hears every renewal (after its
   * files are written), expiry and refusal.
   */
  readonly identity: Pick<IdentityFeed, 'snapshot' | 'subscribe'>;
  readonly metrics: SidecarMetrics;
  /** What `/healthz` answers now. */
  healthReport(): HealthReport;
  onPhaseChange(listener: (change: PhaseChange) => void): () => void;
  onAttempt(listener: (attempt: RefreshAttempt) => void): () => void;
  /** Graceful stop: timers cancelled, call in flight aborted, listener closed, files kept. */
  stop(): Promise<void>;
}

function defaultLogger(): SidecarLogger {
  return pino({ name: 'hallmark-sidecar' });
}

async function prepareStore(config: SidecarConfig, deps: SidecarDeps): Promise<CredentialStore> {
  if (deps.store !== undefined) return deps.store;
  const directory = new CredentialDirectory(config.outputDir);
  await directory.prepare();
  return directory;
}

/**
 * The HTTPS transport, after checking there is something to trust: the first call needs
 * `HALLMARK_SERVER_BUNDLE`, later ones may rely on the `bundle.pem` already written.
 * @throws ConfigError naming `HALLMARK_SERVER_BUNDLE`.
 */
async function defaultApi(
  config: SidecarConfig,
  store: CredentialStore,
): Promise<HallmarkServerApi> {
  const trust = new ServerTrustFiles(config.serverBundlePath, store);
  try {
    await trust.caPem();
  } catch (err) {
    const detail = err instanceof HallmarkError ? (err.detail ?? err.message) : String(err);
    throw new ConfigError(
      'HALLMARK_SERVER_BUNDLE',
      config.serverBundlePath === undefined
        ? `required until ${config.outputDir}/bundle.pem exists (no trust on first use)`
        : `unusable: ${detail}`,
    );
  }
  return new ClientServerApi({ serverUrl: config.serverUrl, trust });
}

async function assemble(
  config: SidecarConfig,
  deps: SidecarDeps,
  publish: (store: CredentialStore, log: SidecarLogger, clock: Clock) => SvidPublisher,
): Promise<{
  clock: Clock;
  log: SidecarLogger;
  loop: RefreshLoop;
  store: CredentialStore;
  api: HallmarkServerApi;
}> {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? defaultLogger();
  const store = await prepareStore(config, deps);
  const publisher = publish(store, log, clock);
  const api = deps.api ?? (await defaultApi(config, store));
  const source = new ServerCredentialSource({
    api,
    projectedToken: deps.projectedToken ?? new ProjectedTokenFile(config.tokenPath),
    keyType: config.keyType,
    clock,
  });
  const loop = new RefreshLoop({
    source: publisher.source(source),
    store: publisher.store(store),
    clock,
    log,
    random: deps.random ?? Math.random,
    timers: deps.timers,
    backoff: deps.backoff,
  });
  return { clock, log, loop, store, api };
}

/**
 * Starts the long-running sidecar: the health listener, the first refresh at once (then on
 * schedule), and the Workload API when configured.
 * @throws ConfigError when there is no CA to trust the server with; HallmarkError
 *   `ERR_WORKLOADAPI_SOCKET_IN_USE` / `ERR_WORKLOADAPI_SOCKET_FAILED` when the socket cannot be served.
 */
export async function startSidecar(
  config: SidecarConfig,
  deps: SidecarDeps = {},
): Promise<SidecarHandle> {
  const identity = new IdentityFeed({ clock: deps.clock ?? systemClock, timers: deps.timers });
  let federated: FederatedBundleFeed | undefined;
  const { clock, log, loop, store, api } = await assemble(config, deps, (store, log, clock) => {
    federated = followFederatedBundles(store, {
      identity,
      api:
        deps.federatedApi ??
        new ClientJwtServerApi({
          serverUrl: config.serverUrl,
          trust: new ServerTrustFiles(config.serverBundlePath, store),
        }),
      log,
      clock,
      timers: deps.timers,
      random: deps.random,
    });
    return new SvidPublisher(identity, federated);
  });
  federated?.start();
  loop.onAttempt((attempt) => {
    if (attempt.credential === 'svid' && attempt.error !== undefined) {
      identity.noteFailure(attempt.error);
    }
  });
  // An SVID whose CA was distrusted is served no more, and renewed at once.
  loop.onSvidDistrusted((chainPem, reason) => identity.withdraw(chainPem, reason));
  const distrustWatch = watchForDistrust({
    api,
    jwtApi:
      deps.jwtApi ??
      new ClientJwtServerApi({
        serverUrl: config.serverUrl,
        trust: new ServerTrustFiles(config.serverBundlePath, store),
      }),
    currentChain: () => identity.snapshot().latest?.chainPem,
    distrusted: (chainPem, reason) => loop.svidDistrusted(chainPem, reason),
    clock,
    timers: deps.timers,
    random: deps.random,
  });
  const metrics = new SidecarMetrics(() => ({ state: loop.state, now: clock.now() }));
  loop.onAttempt((attempt) => metrics.observe(attempt));
  // Set once the Workload API is up; the health listener starts first.
  let workloadApi: WorkloadApiServer | undefined;
  const healthReport = (): HealthReport => {
    const now = clock.now();
    const { svid, token } = loop.state;
    // A Workload API whose socket was deleted or replaced serves nobody: not healthy.
    const socket =
      config.workloadApiSocket === undefined || workloadApi === undefined
        ? null
        : workloadApi.serving()
          ? 'serving'
          : 'gone';
    return {
      healthy: credentialsFresh(loop.state, now) && socket !== 'gone',
      details: {
        phase: loop.phase ?? 'starting',
        svid_expires_at: svid ? new Date(svid.expiresAt).toISOString() : null,
        token_expires_at:
          token && !loop.state.accessTokenRemoved ? new Date(token.expiresAt).toISOString() : null,
        workload_api: socket,
        last_error: loop.state.retry?.code ?? null,
      },
    };
  };
  const health =
    (deps.healthServer ?? true)
      ? await startHealthServer({
          host: config.healthListen.host,
          port: config.healthListen.port,
          report: healthReport,
          metrics: metrics.registry,
        })
      : undefined;
  loop.start();
  // The socket is set up while the first refresh is in flight (the token budget is 1 s); the
  // stream of a client that connects before the first SVID simply waits for it.
  try {
    workloadApi =
      config.workloadApiSocket === undefined
        ? undefined
        : await startWorkloadApi({
            socketPath: config.workloadApiSocket,
            identity,
            jwtApi: distrustWatch.jwtApi,
            federated,
            clock,
            log,
            timers: deps.timers,
            random: deps.random,
          });
  } catch (err) {
    distrustWatch.stop();
    federated?.stop();
    identity.close();
    await loop.stop();
    await health?.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    get phase() {
      return loop.phase;
    },
    get state() {
      return loop.state;
    },
    health,
    workloadApi,
    identity,
    metrics,
    healthReport,
    onPhaseChange: (listener) => loop.onPhaseChange(listener),
    onAttempt: (listener) => loop.onAttempt(listener),
    stop() {
      stopping ??= (async () => {
        // Workload API clients hear Unavailable first and reconnect elsewhere or wait.
        await workloadApi?.stop();
        distrustWatch.stop();
        federated?.stop();
        identity.close();
        await loop.stop();
        await health?.close();
        log.info({ phase: 'stopped' }, 'sidecar stopped: timers cancelled, files left in place');
      })();
      return stopping;
    },
  };
}

/**
 * Init-container mode: resolves once all four files are written. Transient failures are
 * retried with backoff until `config.onceTimeoutMs`; a definitive refusal (4xx other than
 * 429) fails at once. Files written are left in place either way.
 * @throws HallmarkError — the refusal's own code, or `ERR_SIDECAR_ONCE_TIMEOUT` naming the
 * last error; ConfigError when there is no CA to trust the server with.
 */
export async function runSidecarOnce(config: SidecarConfig, deps: SidecarDeps = {}): Promise<void> {
  // No Workload API: the federated bundles that come with the SVID go to the files only.
  const { loop } = await assemble(
    config,
    deps,
    (store, log, clock) =>
      new SvidPublisher(undefined, followFederatedBundles(store, { log, clock })),
  );
  const timers = deps.timers ?? realTimers;
  let lastError: HallmarkError | undefined;
  let deadline: unknown;
  try {
    await new Promise<void>((resolve, reject) => {
      loop.onPhaseChange((change) => {
        if (change.to === 'ready') resolve();
      });
      loop.onAttempt((attempt) => {
        if (attempt.error === undefined) return;
        lastError = attempt.error;
        if (isDefinitiveRefusal(attempt.error)) reject(attempt.error);
      });
      deadline = timers.set(() => {
        const last =
          lastError === undefined
            ? 'no answer yet'
            : `last error ${lastError.code}${lastError.detail ? ` (${lastError.detail})` : ''}`;
        reject(
          new HallmarkError('ERR_SIDECAR_ONCE_TIMEOUT', {
            message: `no credentials within ${Math.round(config.onceTimeoutMs / 1000)}s; ${last}`,
            cause: lastError,
          }),
        );
      }, config.onceTimeoutMs);
      loop.start();
    });
  } finally {
    timers.clear(deadline);
    await loop.stop();
  }
}
