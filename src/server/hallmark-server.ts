// The composition root: wires configuration, database, keys, CA and routes into one server.
import path from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { PgAuditLog, type AuditLog, type AuditRecord } from '../audit/index.js';
import { Authentication, kubernetesPodLookup, type AdminBootstrap } from '../authn/index.js';
import {
  CertificateAuthority,
  announceBundleChange,
  loadUpstreamAuthority,
  type TrustBundle,
} from '../ca/index.js';
import { systemClock, type Clock } from '../clock/index.js';
import { JWT_SVID_ALGORITHM_OF, publicUrlOf, type ServerConfig } from '../config/index.js';
import { loadMasterKey } from '../crypto/index.js';
import { writeFileAtomic } from '../file/index.js';
import { Database, DatabaseReadiness, MIGRATIONS, WriteGate } from '../db/index.js';
import {
  AddressBuckets,
  RateLimiter,
  ThrottleTally,
  apiKeyRoutes,
  auditCheckpointRoutes,
  auditRoutes,
  authnRoutes,
  buildApp,
  bundleDocumentSource,
  bundleRoutes,
  caRoutes,
  complianceRoutes,
  createLogger,
  createMetricsRegistry,
  federatedBundleRoutes,
  followTlsChanges,
  jwtSvidRoutes,
  logFormatFor,
  oidcRoutes,
  policyRoutes,
  secretRoutes,
  svidRoutes,
  type HallmarkApp,
  type MetricsSource,
} from '../http/index.js';
import { PodAttestor, createKubernetesApi, type KubernetesApi } from '../attest/index.js';
import { PgPolicyStore, canAccess, findRegistration, isStillRegistered } from '../policy/index.js';
import { DEFAULT_SECRET_CACHE, PgSecretStore } from '../secrets/index.js';
import {
  AuditRetention,
  startAuditCheckpoints,
  type AuditCheckpoints,
} from '../checkpoint/index.js';
import { oidcCacheMaxAgeSeconds } from '../oidc/index.js';
import { JwtAuthorityKeyring, JwtSvidIssuer } from '../jwtsvid/index.js';
import { BrokerGrants, brokerPlugin } from '../../broker/index.js';
import { startAuditSinks } from '../sink/index.js';
import { UnavailableKubernetesApi } from './unavailable-kubernetes-api.js';
import { prepareHost, type PreparedHost } from './host-preparation.js';
import { ServingCertificate } from './serving-certificate.js';
import { startFederation } from './federation-wiring.js';
import { serverComplianceOptions } from './compliance-sources.js';
import { openServerVault } from './key-vault-setup.js';

/** A running server and what a caller (CLI, tests) needs to use and stop it. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly admin: AdminBootstrap;
  readonly bundleFile: string;
  readonly app: HallmarkApp;
  readonly db: Database;
  /** `settle()` waits until every row staged so far is in the chain (tests, readers). */
  readonly audit: AuditLog;
  readonly ca: CertificateAuthority;
  readonly jwtAuthorities: JwtAuthorityKeyring;
  readonly policy: PgPolicyStore;
  readonly authn: Authentication;
  readonly secrets: PgSecretStore;
  /** The checkpoint keyring (JWKS, detached signatures) and the checkpointer. */
  readonly checkpoints: AuditCheckpoints;
  /** The automatic archive (`HALLMARK_AUDIT_RETENTION_ONLINE`); `undefined` when not set. */
  readonly retention: AuditRetention | undefined;
  readonly embedded: boolean;
  /** The port of the bundle endpoint's own listener (`HALLMARK_FEDERATION_LISTEN`), if any. */
  readonly federationPort: number | undefined;
  /**
   * Resolves (never rejects) once the server can no longer serve and must exit non-zero: its
   * embedded PostgreSQL died and could not be restarted. Never settles with DATABASE_URL,
   * where the pool reconnects whenever the external database is back.
   */
  readonly lost: Promise<Error>;
  close(): Promise<void>;
}

/** Options for {@link startServer}. */
export interface StartOptions {
  clock?: Clock;
  /** Defaults to a JSON logger on stdout at the configured level. */
  logger?: Logger;
  /** Overrides the Kubernetes API (tests run an in-process one); default from the config. */
  kubernetes?: KubernetesApi;
  /** Disables the CA's rotation ticker (tests drive rotation by hand). */
  caTicker?: boolean;
  /** Disables the checkpoint and retention tickers (tests sign and archive by hand). */
  checkpointTicker?: boolean;
  /** The host as the cluster's primary prepared it; by default the server prepares it itself. */
  host?: PreparedHost;
  /** Set when this server is one of the cluster's workers. */
  worker?: WorkerRole;
}

/** How a cluster worker differs from a lone server (see cluster-worker.ts). */
export interface WorkerRole {
  /** 1 to HALLMARK_WORKERS: its label on metrics and in PostgreSQL's `application_name`. */
  readonly slot: number;
  /** Hands the trust bundle to the primary, which alone writes `bundle.pem`. */
  publishBundle(bundle: TrustBundle): void;
  /** What `/metrics` answers, given the worker's own registry: every worker's series. */
  metrics(own: Registry): MetricsSource;
}

function kubernetesFor(config: ServerConfig, log: Logger): KubernetesApi {
  if (config.kubeconfigPath === undefined && !config.inCluster) {
    log.warn(
      'no Kubernetes API configured (HALLMARK_KUBECONFIG unset, not in a cluster): SVID requests will get 503',
    );
    return new UnavailableKubernetesApi();
  }
  return createKubernetesApi({
    kubeconfigPath: config.kubeconfigPath,
    timeoutMs: config.kubernetesTimeoutMs,
  });
}

/** The server's log: JSON lines on stdout at the configured level (readable on a terminal). */
export function serverLogger(config: ServerConfig): Logger {
  return createLogger(config.logLevel, undefined, {
    format: logFormatFor(config.logFormat, process.stdout.isTTY === true),
    colorize: process.stdout.isTTY === true,
  });
}

/**
 * Starts Hallmark: PostgreSQL (external or embedded under `<data dir>/pg`), migrations,
 * master key, admin key, CA, then the HTTPS listener. Resources are released in reverse
 * order by `close()`, and also if start-up fails half-way.
 */
export async function startServer(
  config: ServerConfig,
  options: StartOptions = {},
): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? serverLogger(config);
  const cleanups: (() => Promise<void> | void)[] = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  };
  try {
    let host = options.host;
    if (host === undefined) {
      host = await prepareHost(config, log, clock);
      cleanups.push(() => (host as PreparedHost).close());
    }
    // A lone server uses the token its host preparation opened before the database started; a
    // worker opens its own (its primary opened one only to check it): with a token, every new
    // signing key of every keyring is generated in it.
    const {
      vault,
      readiness: tokenReadiness,
      close: closeVault,
    } = host.vault ?? (await openServerVault(config.pkcs11, clock));
    cleanups.push(closeVault);
    if (config.pkcs11 !== undefined) {
      log.info(
        { token: config.pkcs11.tokenLabel },
        'signing keys are generated in the PKCS#11 token',
      );
    }
    const { databaseUrl, admin, lost } = host;
    const worker = options.worker;
    const db = new Database(databaseUrl, {
      log,
      applicationName: worker === undefined ? 'hallmark' : `hallmark/worker-${worker.slot}`,
    });
    cleanups.push(() => db.close());
    // /readyz never queues for a pooled connection behind a burst of writers.
    const readiness = new DatabaseReadiness({
      url: databaseUrl,
      db,
      migrations: MIGRATIONS,
      clock,
    });
    cleanups.push(() => readiness.close());

    const master = await loadMasterKey(config.masterKey);
    const auditLog = log.child({ component: 'audit' });
    const audit = new PgAuditLog(db, clock, (record: AuditRecord) =>
      auditLog.info({ audit: record }, 'audit'),
    );
    // Chains rows other replicas staged and did not chain (one that crashed, say).
    audit.start();
    cleanups.push(() => audit.stop());
    // One bound on change transactions for secret writes and broker changes alike.
    const writes = new WriteGate();

    const upstream = config.upstreamCa ? await loadUpstreamAuthority(config.upstreamCa) : undefined;
    const ca = await CertificateAuthority.start(
      { db, master, vault, clock, audit, log },
      {
        trustDomain: config.trustDomain,
        keyType: config.caKeyType,
        ttlSeconds: config.caTtlSeconds,
        upstream,
      },
      { tick: options.caTicker },
    );
    cleanups.push(() => ca.stop());
    const jwtAuthorities = await JwtAuthorityKeyring.start(
      {
        db,
        master,
        vault,
        clock,
        audit,
        log,
        // The bundle's spiffe_sequence moves whenever the published jwt-svid keys change.
        onPublishedSetChange: announceBundleChange,
      },
      {
        svidTtlMs: config.jwtSvidTtlSeconds * 1000,
        algorithm: JWT_SVID_ALGORITHM_OF[config.jwtSvidKeyType],
      },
    );
    cleanups.push(() => jwtAuthorities.stop());
    const bundleFile = path.join(config.dataDir, 'bundle.pem');
    // A worker hands the bundle to its primary, the one writer of the data dir's files.
    const writeBundle = async (): Promise<void> => {
      if (worker !== undefined) worker.publishBundle(ca.bundle());
      else
        await writeFileAtomic({
          path: bundleFile,
          content: ca.bundle().certificatesPem.join(''),
          mode: 0o644,
        });
    };
    await writeBundle();
    cleanups.push(ca.onChange(() => void writeBundle().catch(() => undefined)));

    const policy = await PgPolicyStore.open(
      db,
      { trustDomain: config.trustDomain, maxTtlSeconds: config.maxSvidTtlSeconds },
      clock,
      audit,
    );
    cleanups.push(() => policy.close());
    const unconfined = policy.current().unconfined;
    if (unconfined.length > 0) {
      log.warn(
        {
          policyVersion: policy.version(),
          registrations: unconfined.map((r) => `workloads[${r.index}]`),
        },
        'the stored policy has registrations rendering SPIFFE IDs outside their namespace: their pods are refused SVIDs until the policy is reloaded with paths under /ns/<namespace>/ or allowForeignPath: true',
      );
    }
    const kubernetes = options.kubernetes ?? kubernetesFor(config, log);
    const attestor = new PodAttestor(kubernetes, {
      audience: config.kubernetesAudience,
      maxConcurrentReviews: config.tokenReviewConcurrency,
    });
    const authn = await Authentication.start(
      {
        db,
        master,
        vault,
        clock,
        audit,
        log,
        pods: kubernetesPodLookup(kubernetes),
        registrationCheck: (workload, spiffeId) =>
          isStillRegistered(policy.current(), workload, spiffeId),
        bundle: () => ca.bundle().certificatesPem,
        distrusted: () => ca.distrusted(),
      },
      {
        issuer: publicUrlOf(config),
        trustDomain: config.trustDomain,
        tokenTtlMs: config.tokenTtlSeconds * 1000,
      },
    );
    cleanups.push(() => authn.stop());
    const brokerGrants = await BrokerGrants.open(db, { trustDomain: config.trustDomain, log });
    cleanups.push(() => brokerGrants.close());
    let url = publicUrlOf(config);
    const limiter = new RateLimiter(config.rateLimitPerMinute, clock);
    const secrets = new PgSecretStore({
      db,
      master,
      clock,
      maxValueBytes: config.secretMaxBytes,
      cache: { ...DEFAULT_SECRET_CACHE, maxBytes: config.secretCacheBytes },
      gate: writes,
    });
    await secrets.listen();

    const tls = await ServingCertificate.start(
      ca,
      config.trustDomain,
      config.serverNames,
      clock,
      log.child({ component: 'serving-certificate' }),
    );
    cleanups.push(() => tls.stop());
    const metrics = createMetricsRegistry();
    // A Web PKI certificate that cannot be used stops start-up (exit 2, naming the variable).
    const federation = await startFederation(config, {
      db,
      audit,
      clock,
      log,
      metrics,
      svid: tls,
      document: bundleDocumentSource({ ca, jwtKeys: () => jwtAuthorities.bundleJwks() }),
      relationships: () => policy.current().federation,
    });
    cleanups.push(() => federation.stop());
    const federated = federation.bundles;
    // Each worker's series carry its slot, so the primary's sum keeps them apart.
    if (worker !== undefined) metrics.setDefaultLabels({ worker: String(worker.slot) });
    const tally = new ThrottleTally({
      audit,
      clock,
      maxRowsPerInterval: config.preauth.auditRowsPerInterval,
      onFlushError: (err) =>
        log.warn({ detail: (err as Error).message }, 'pre-authentication tally not written yet'),
    });
    tally.start(config.preauth.auditIntervalSeconds * 1000);
    cleanups.push(() => tally.stop()); // the app's close flushes first; this if start-up fails
    // Off every request's path: a tick signs the head on one replica at a time.
    const checkpoints = await startAuditCheckpoints({
      db,
      master,
      vault,
      clock,
      audit,
      log: log.child({ component: 'audit-checkpoint' }),
      metrics,
      trustDomain: config.trustDomain,
      intervalMs: config.auditCheckpoints.intervalSeconds * 1000,
      keyRotationMs: config.auditCheckpoints.keyRotationSeconds * 1000,
      tick: options.checkpointTicker,
    });
    cleanups.push(() => checkpoints.stop());
    // The retention policy: rows past the online period leave PostgreSQL for the archive.
    const { archiveDir, onlineSeconds } = config.auditRetention;
    const retention =
      archiveDir === undefined || onlineSeconds === undefined
        ? undefined
        : new AuditRetention({
            db,
            audit,
            clock,
            log: log.child({ component: 'audit-retention' }),
            metrics,
            dir: archiveDir,
            onlineMs: onlineSeconds * 1000,
          });
    if (retention !== undefined) {
      if (options.checkpointTicker !== false) retention.start();
      cleanups.push(() => retention.stop());
    }
    // Started before the listener and never awaited by a request: a receiver that is down
    // shows in hallmark_audit_sink_* and the log, /readyz stays ready.
    const sinks = await startAuditSinks({
      config: config.auditSinks,
      db,
      databaseUrl,
      audit,
      clock,
      log: log.child({ component: 'audit-sink' }),
      metrics,
      trustDomain: config.trustDomain,
    });
    cleanups.push(() => sinks.stop());
    const app = await buildApp({
      audit,
      tlsCiphers: config.tlsCiphers,
      preauth: { buckets: new AddressBuckets(config.preauth, clock), tally },
      tls,
      metrics,
      metricsEndpoint: worker?.metrics(metrics),
      logger: log,
      // Not ready while the database is (schema behind, no connection), or while the PKCS#11
      // token cannot sign: SVID requests fail closed (503) then, and load balancers should
      // send them elsewhere.
      readiness: async () => {
        const database = await readiness.check();
        if (!database.ready) return database;
        return tokenReadiness();
      },
    });
    cleanups.push(() => app.close());
    // Each route group is an encapsulated plugin taking its dependencies as options.
    await app.register(bundleRoutes, { ca, clock, jwtKeys: () => jwtAuthorities.bundleJwks() });
    await app.register(svidRoutes, {
      attestor,
      policy,
      ca,
      audit,
      clock,
      limiter,
      defaultTtlSeconds: config.svidTtlSeconds,
      federatedBundles: (trustDomains) => federated.documents(trustDomains),
    });
    await app.register(federatedBundleRoutes, {
      clientSvid: (socket) => authn.clientSvid(socket),
      checkCaller: (svid) => authn.checkWorkload(svid),
      federatesWith: (workload) =>
        findRegistration(policy.current(), workload)?.federatesWith ?? [],
      bundles: (trustDomains) => federated.documents(trustDomains),
      limiter,
    });
    await app.register(authnRoutes, { authn, audit });
    const tokens = authn.verifier;
    await app.register(secretRoutes, {
      store: secrets,
      audit,
      tokens,
      access: (caller, action, path) =>
        canAccess(policy.current(), caller.id, action, path, brokerGrants.current()),
      maxValueBytes: config.secretMaxBytes,
    });
    await app.register(policyRoutes, { store: policy, audit, tokens, maxBytes: 1_048_576 });
    await app.register(caRoutes, { ca, audit, tokens });
    await app.register(auditRoutes, { db, audit, tokens });
    await app.register(auditCheckpointRoutes, { db, audit, tokens, keyring: checkpoints.keyring });
    await app.register(apiKeyRoutes, { tokens, authn });
    await app.register(
      complianceRoutes,
      serverComplianceOptions(
        {
          config,
          db,
          clock,
          publicUrl: () => url,
          policy,
          authn,
          jwtAuthorities,
          tls,
          upstream,
          checkpointKeys: checkpoints.keyring,
        },
        { audit, sinkNames: sinks.names },
      ),
    );
    await app.register(jwtSvidRoutes, {
      clientSvid: (socket) => authn.clientSvid(socket),
      checkCaller: async (svid) => {
        await authn.checkWorkload(svid);
      },
      issuer: new JwtSvidIssuer(jwtAuthorities, clock, {
        trustDomain: config.trustDomain,
        ttlMs: config.jwtSvidTtlSeconds * 1000,
        issuer: config.oidcIssuer,
      }),
      audit,
      limiter,
    });
    // OIDC discovery is off unless an issuer is configured (its URL is what relying parties pin).
    if (config.oidcIssuer !== undefined) {
      await app.register(oidcRoutes, {
        issuer: config.oidcIssuer,
        keys: () => jwtAuthorities.publishedKeys(),
        algorithm: JWT_SVID_ALGORITHM_OF[config.jwtSvidKeyType],
        maxAgeSeconds: oidcCacheMaxAgeSeconds(jwtAuthorities.schedule.propagationMs),
      });
    }
    // The broker is mounted only with credentials (never open); its grants apply either way.
    if (config.broker) {
      await app.register(brokerPlugin, {
        prefix: '/v2',
        db,
        audit,
        clock,
        secrets,
        grants: brokerGrants,
        credentials: config.broker,
        trustDomain: config.trustDomain,
        serverUrl: () => url,
        bundlePem: () => ca.bundle().certificatesPem.join(''),
        maxSecretBytes: config.secretMaxBytes,
        gate: writes,
        apiKeys: {
          create: (id, actor, tx) => authn.createApiKeyIn(tx, { id, role: 'app' }, actor),
          revoke: async (id, actor, tx) => {
            const revocation = await authn.revokeApiKeyIn(tx, id, actor);
            return revocation === undefined ? undefined : () => authn.revocations.apply(revocation);
          },
        },
      });
    }
    cleanups.push(followTlsChanges(app.server, tls, config.tlsCiphers));
    await app.listen({ host: config.listen.host, port: config.listen.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.listen.port;
    url = publicUrlOf({ ...config, listen: { ...config.listen, port } });
    return {
      url,
      port,
      admin,
      bundleFile,
      app,
      db,
      audit,
      ca,
      jwtAuthorities,
      policy,
      authn,
      secrets,
      checkpoints,
      retention,
      embedded: host.embedded,
      federationPort: federation.endpointPort,
      lost,
      close,
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
