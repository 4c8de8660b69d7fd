// Gathering the snapshot: the I/O half of compliance (database reads, the key file, certificates).
import { auditRowsAfter, firstAuditRowAfter, verifyAuditChain } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import type { ServerConfig } from '../config/index.js';
import type { Database, Queryable } from '../db/index.js';
import type { KeySchedule, KeySlot, KeyStatus } from '../keyring/index.js';
import type { CompiledPolicy } from '../policy/index.js';
import { certificateFacts } from './certificate-facts.js';
import { masterKeyFacts } from './master-key-facts.js';
import { retentionFacts } from './retention-facts.js';
import type { DependencyAudit } from './dependency-audit.js';
import type {
  AuditSinkFacts,
  CaFacts,
  CheckpointFacts,
  GrantFacts,
  InstallationSnapshot,
  KeyringFacts,
  ManifestFacts,
  PasswordFacts,
  PolicyFacts,
} from './installation-snapshot.js';

/** A rotating keyring's schedule and tick, as the server runs it. */
export interface KeyringSchedule {
  readonly schedule: KeySchedule;
  readonly tickMs: number;
}

/** What the gatherer reads, handed over by the composition root. */
export interface GatherSources {
  readonly config: ServerConfig;
  readonly db: Database;
  readonly clock: Clock;
  readonly version: string;
  /** The URL clients use (known once the listener is bound). */
  readonly publicUrl: () => string;
  readonly policy: () => { readonly version: number; readonly compiled: CompiledPolicy };
  readonly caTickMs: number;
  /** PEM chain above Hallmark's CAs (`HALLMARK_UPSTREAM_CA_CERT`), signer first. */
  readonly upstreamChainPem: readonly string[] | undefined;
  readonly accessTokenKeys: KeyringSchedule;
  readonly jwtAuthorities: KeyringSchedule;
  readonly tls: {
    readonly minVersion: string;
    readonly ciphers: readonly string[];
    /** The serving certificate (leaf first) and when it is renewed. */
    readonly current: () => { readonly certPem: string; readonly renewAt: number };
  };
  /** Names of the configured audit sinks (`syslog`, `webhook`). */
  readonly sinkNames: readonly string[];
  /** The checkpoint key's rotation and the checkpointer's cadence. */
  readonly checkpoints: {
    readonly keys: KeyringSchedule;
    readonly intervalSeconds: number;
    readonly tickMs: number;
  };
}

/** What the caller of `POST /v1/compliance` supplied. */
export interface SuppliedInputs {
  readonly manifests?: ManifestFacts;
  readonly dependencies?: DependencyAudit;
}

async function caFacts(db: Queryable): Promise<CaFacts[]> {
  const rows = await db.query<{ id: string; status: CaFacts['status']; cert_pem: string }>(
    'SELECT id, status, cert_pem FROM ca_authorities ORDER BY id',
  );
  return rows.rows.map((row) => ({
    id: Number(row.id),
    status: row.status,
    ...certificateFacts(row.cert_pem),
  }));
}

type KeyTableName = 'token_signing_keys' | 'jwt_authority_keys' | 'audit_checkpoint_keys';

/** The newest checkpoint, and the first row after it that no checkpoint covers yet. */
async function checkpointFacts(
  db: Queryable,
  cadence: GatherSources['checkpoints'],
): Promise<CheckpointFacts> {
  const latest = await db.query<{ seq: string; time: Date }>(
    'SELECT seq, time FROM audit_checkpoints ORDER BY seq DESC LIMIT 1',
  );
  const row = latest.rows[0];
  const first = await firstAuditRowAfter(db, Number(row?.seq ?? 0));
  return {
    intervalSeconds: cadence.intervalSeconds,
    tickMs: cadence.tickMs,
    latest: row === undefined ? undefined : { seq: Number(row.seq), signedAt: row.time.getTime() },
    oldestUnsigned: first === undefined ? undefined : { seq: first.seq, committedAt: first.time },
  };
}

async function keySlots(db: Queryable, table: KeyTableName): Promise<KeySlot[]> {
  const rows = await db.query<{
    kid: string;
    status: KeyStatus;
    created_at: Date;
    activated_at: Date | null;
    retired_at: Date | null;
  }>(`SELECT kid, status, created_at, activated_at, retired_at FROM ${table} ORDER BY created_at`);
  return rows.rows.map((row) => ({
    kid: row.kid,
    status: row.status,
    createdAt: row.created_at.getTime(),
    activatedAt: row.activated_at?.getTime(),
    retiredAt: row.retired_at?.getTime(),
  }));
}

async function keyringFacts(
  db: Queryable,
  table: KeyTableName,
  schedule: KeyringSchedule,
): Promise<KeyringFacts> {
  return { slots: await keySlots(db, table), schedule: schedule.schedule, tickMs: schedule.tickMs };
}

async function liveSvids(
  db: Queryable,
  now: number,
): Promise<(InstallationSnapshot['lifetimes']['longestLiveSvid'] & object) | undefined> {
  const rows = await db.query<{
    serial: string;
    spiffe_id: string;
    issued_at: Date;
    not_after: Date;
  }>(
    `SELECT serial, spiffe_id, issued_at, not_after FROM issued_certificates
      WHERE not_after > $1 ORDER BY not_after - issued_at DESC, serial LIMIT 1`,
    [new Date(now)],
  );
  const row = rows.rows[0];
  return row === undefined
    ? undefined
    : {
        serial: row.serial,
        spiffeId: row.spiffe_id,
        issuedAt: row.issued_at.getTime(),
        notAfter: row.not_after.getTime(),
      };
}

async function countLiveSvids(db: Queryable, now: number): Promise<number> {
  const rows = await db.query<{ n: string }>(
    'SELECT count(*) AS n FROM issued_certificates WHERE not_after > $1',
    [new Date(now)],
  );
  return Number(rows.rows[0]?.n ?? 0);
}

async function adminKeyFacts(db: Queryable): Promise<InstallationSnapshot['adminKey']> {
  const rows = await db.query<{ created_at: Date; revoked_at: Date | null }>(
    "SELECT created_at, revoked_at FROM api_keys WHERE id = 'admin'",
  );
  const row = rows.rows[0];
  return row === undefined
    ? undefined
    : { createdAt: row.created_at.getTime(), revoked: row.revoked_at !== null };
}

/**
 * Private keys kept in PostgreSQL, sealed under the master key, per keyring. A key held in a
 * PKCS#11 token has no sealed copy, so zero everywhere is what HM-KEY-08 asks for.
 */
async function sealedKeyCounts(db: Queryable): Promise<Record<string, number>> {
  const rows = await db.query<{ keyring: string; n: string }>(
    `SELECT 'ca' AS keyring, count(*) AS n FROM ca_authorities WHERE sealed_key IS NOT NULL
     UNION ALL
     SELECT 'access-token', count(*) FROM token_signing_keys WHERE sealed_private_key IS NOT NULL
     UNION ALL
     SELECT 'jwt-authority', count(*) FROM jwt_authority_keys WHERE sealed_private_key IS NOT NULL
     UNION ALL
     SELECT 'audit-checkpoint', count(*) FROM audit_checkpoint_keys
      WHERE sealed_private_key IS NOT NULL`,
  );
  return Object.fromEntries(rows.rows.map((row) => [row.keyring, Number(row.n)]));
}

/** The password's composition, never its value. */
export function passwordFacts(password: string, username: string): PasswordFacts {
  const characters = [...password];
  return {
    length: characters.length,
    lowercase: /[a-z]/.test(password),
    uppercase: /[A-Z]/.test(password),
    digits: /[0-9]/.test(password),
    symbols: /[^A-Za-z0-9]/.test(password),
    distinct: new Set(characters).size,
    containsUsername: username !== '' && password.toLowerCase().includes(username.toLowerCase()),
  };
}

/** The policy's grants and registrations, reduced to what least privilege asks. */
export function policyFacts(version: number, policy: CompiledPolicy): PolicyFacts {
  const grants: GrantFacts[] = [];
  for (const [subject, rules] of policy.grants.byIdentity) {
    grants.push({ subject, readAll: rules.read.all, writeAll: rules.write.all });
  }
  for (const [prefix, rules] of policy.grants.byPrefix) {
    grants.push({ subject: `${prefix}*`, readAll: rules.read.all, writeAll: rules.write.all });
  }
  const unconfined = new Set(policy.unconfined.map((r) => r.index));
  return {
    version,
    sha256: policy.sha256,
    grants: grants.sort((a, b) => a.subject.localeCompare(b.subject)),
    registrations: policy.registrations.map((r) => ({
      index: r.index,
      namespace: r.namespace,
      template: r.template.source,
      ttlSeconds: r.ttlSeconds,
      allowForeignPath: r.allowForeignPath,
      unconfined: unconfined.has(r.index),
    })),
  };
}

async function sinkFacts(
  db: Queryable,
  names: readonly string[],
  lagAlarmSeconds: number,
): Promise<AuditSinkFacts> {
  const sinks = [];
  for (const name of names) {
    const cursor = await db.query<{ seq: string }>(
      'SELECT seq FROM audit_sink_cursors WHERE sink = $1',
      [name],
    );
    const delivered = cursor.rows[0] === undefined ? undefined : Number(cursor.rows[0].seq);
    const pending = await auditRowsAfter(db, delivered ?? 0);
    sinks.push({
      name,
      deliveredSeq: delivered,
      undeliveredRows: pending.count,
      oldestUndeliveredAt: pending.oldest,
    });
  }
  return { lagAlarmSeconds, sinks };
}

/**
 * Reads everything the controls evaluate. `supplied` carries what only the caller can see
 * (the manifests the installation was deployed from, a dependency audit).
 */
export async function gatherSnapshot(
  sources: GatherSources,
  supplied: SuppliedInputs = {},
): Promise<InstallationSnapshot> {
  const { config, db } = sources;
  const now = sources.clock.now();
  const { version: policyVersion, compiled } = sources.policy();
  const current = sources.tls.current();
  const [
    masterKey,
    authorities,
    accessTokenKeys,
    jwtAuthorities,
    longest,
    live,
    adminKey,
    audit,
    auditSinks,
    sealedKeys,
    checkpoints,
    checkpointKeys,
  ] = await Promise.all([
    masterKeyFacts(config),
    caFacts(db),
    keyringFacts(db, 'token_signing_keys', sources.accessTokenKeys),
    keyringFacts(db, 'jwt_authority_keys', sources.jwtAuthorities),
    liveSvids(db, now),
    countLiveSvids(db, now),
    adminKeyFacts(db),
    verifyAuditChain(db),
    sinkFacts(db, sources.sinkNames, config.auditSinks.lagAlarmSeconds),
    sealedKeyCounts(db),
    checkpointFacts(db, sources.checkpoints),
    keyringFacts(db, 'audit_checkpoint_keys', sources.checkpoints.keys),
  ]);
  return {
    now,
    server: {
      trustDomain: config.trustDomain,
      publicUrl: sources.publicUrl(),
      version: sources.version,
    },
    masterKey,
    ca: {
      ttlSeconds: config.caTtlSeconds,
      tickMs: sources.caTickMs,
      authorities,
      upstream: sources.upstreamChainPem?.map(certificateFacts),
    },
    accessTokenKeys,
    jwtAuthorities,
    hsm: {
      moduleConfigured: config.pkcs11 !== undefined,
      ...(config.pkcs11 === undefined ? {} : { tokenLabel: config.pkcs11.tokenLabel }),
      sealedKeys,
    },
    lifetimes: {
      tokenTtlSeconds: config.tokenTtlSeconds,
      jwtSvidTtlSeconds: config.jwtSvidTtlSeconds,
      svidTtlSeconds: config.svidTtlSeconds,
      maxSvidTtlSeconds: config.maxSvidTtlSeconds,
      liveSvids: live,
      longestLiveSvid: longest,
    },
    adminKey,
    broker:
      config.broker === undefined
        ? undefined
        : { password: passwordFacts(config.broker.password, config.broker.username) },
    policy: policyFacts(policyVersion, compiled),
    audit: audit.ok
      ? { ok: true, rows: audit.rows, headSeq: audit.head.seq }
      : { ok: false, rows: audit.rows, seq: audit.seq, problem: audit.problem },
    tls: {
      minVersion: sources.tls.minVersion,
      ciphers: sources.tls.ciphers,
      certificate: certificateFacts(current.certPem),
      renewAt: current.renewAt,
    },
    auditSinks,
    checkpoints,
    checkpointKeys,
    retention: retentionFacts(config.auditRetention),
    manifests: supplied.manifests,
    dependencies: supplied.dependencies,
  };
}
