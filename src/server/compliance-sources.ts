// What `GET /v1/compliance` reads from the running server, assembled for src/compliance.
import type { Authentication } from '../authn/index.js';
import { rotationTickMs as caRotationTickMs, type UpstreamAuthority } from '../ca/index.js';
import {
  checkpointKeySchedule,
  DEFAULT_CHECKPOINT_TICK_MS,
  type CheckpointKeyring,
} from '../checkpoint/index.js';
import type { Clock } from '../clock/index.js';
import { produceReport, type GatherSources } from '../compliance/index.js';
import type { AuditLog } from '../audit/index.js';
import type { ComplianceRouteOptions } from '../http/index.js';
import { HALLMARK_VERSION, type ServerConfig } from '../config/index.js';
import type { Database } from '../db/index.js';
import { DEFAULT_TLS12_CIPHERS, TLS_MIN_VERSION } from '../http/index.js';
import type { JwtAuthorityKeyring } from '../jwtsvid/index.js';
import { rotationTickMs } from '../keyring/index.js';
import type { PgPolicyStore } from '../policy/index.js';
import type { ServingCertificate } from './serving-certificate.js';

/** The server's parts the compliance gatherer reads. */
export interface ComplianceParts {
  readonly config: ServerConfig;
  readonly db: Database;
  readonly clock: Clock;
  readonly publicUrl: () => string;
  readonly policy: PgPolicyStore;
  readonly authn: Authentication;
  readonly jwtAuthorities: JwtAuthorityKeyring;
  readonly tls: ServingCertificate;
  readonly upstream: UpstreamAuthority | undefined;
  readonly checkpointKeys: CheckpointKeyring;
}

/** The gatherer's sources: the live configuration, schedules and certificates of this server. */
export function complianceSources(
  parts: ComplianceParts,
  sinkNames: readonly string[],
): GatherSources {
  const { config } = parts;
  const checkpointSchedule = checkpointKeySchedule(
    config.auditCheckpoints.keyRotationSeconds * 1000,
  );
  return {
    config,
    db: parts.db,
    clock: parts.clock,
    version: HALLMARK_VERSION,
    publicUrl: parts.publicUrl,
    policy: () => ({ version: parts.policy.version(), compiled: parts.policy.current() }),
    caTickMs: caRotationTickMs(config.caTtlSeconds),
    upstreamChainPem:
      parts.upstream === undefined
        ? undefined
        : [parts.upstream.certificatePem, ...parts.upstream.chainPem],
    accessTokenKeys: {
      schedule: parts.authn.keyring.schedule,
      tickMs: rotationTickMs(parts.authn.keyring.schedule),
    },
    jwtAuthorities: {
      schedule: parts.jwtAuthorities.schedule,
      tickMs: rotationTickMs(parts.jwtAuthorities.schedule),
    },
    tls: {
      minVersion: TLS_MIN_VERSION,
      ciphers: config.tlsCiphers ?? DEFAULT_TLS12_CIPHERS,
      current: () => ({ certPem: parts.tls.current().cert, renewAt: parts.tls.renewAt() }),
    },
    sinkNames,
    checkpoints: {
      keys: { schedule: checkpointSchedule, tickMs: rotationTickMs(checkpointSchedule) },
      intervalSeconds: config.auditCheckpoints.intervalSeconds,
      tickMs: DEFAULT_CHECKPOINT_TICK_MS,
    },
  };
}

/**
 * The options of `GET`/`POST /v1/compliance` (`complianceRoutes`) over this server's parts. Reports are signed with the audit
 * checkpoint key (a detached JWS), so they verify against `GET /v1/audit/keys`.
 */
export function serverComplianceOptions(
  parts: ComplianceParts,
  options: { readonly audit: AuditLog; readonly sinkNames: readonly string[] },
): ComplianceRouteOptions {
  const sources = complianceSources(parts, options.sinkNames);
  return {
    tokens: parts.authn.verifier,
    audit: options.audit,
    produce: (supplied) =>
      produceReport(sources, supplied, {
        signCompact: (payload) => parts.checkpointKeys.signDetached(Buffer.from(payload)),
      }),
  };
}
