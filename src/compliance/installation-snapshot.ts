// The installation as the controls see it: plain values gathered from the running server.
import type { KeySchedule, KeySlot } from '../keyring/index.js';
import type { KubeObject } from '../manifest/index.js';
import type { DependencyAudit } from './dependency-audit.js';

/** A certificate as the key and transport controls see it (no key material). */
export interface CertificateFacts {
  readonly subject: string;
  readonly notBefore: number;
  readonly notAfter: number;
  /** `EC P-256`, `RSA 3072`, `Ed25519`, ... */
  readonly keyDescription: string;
  /** Security strength of the key in bits (NIST SP 800-57 Part 1 Rev. 5, Table 2). */
  readonly keyStrengthBits: number;
  /** The signature algorithm's name, or its OID when unknown. */
  readonly signatureAlgorithm: string;
  /** Security strength of the signature's hash in bits (collision resistance: SHA-1 → 63). */
  readonly signatureHashStrengthBits: number;
  /** SHA-256 of the DER, hex: identifies the certificate to an assessor. */
  readonly sha256: string;
}

/** One CA of Hallmark's rotation journal. */
export interface CaFacts extends CertificateFacts {
  readonly id: number;
  /** `distrusted`: taken out of the bundle by `hallmark ca distrust`; its SVIDs are refused. */
  readonly status: 'prepared' | 'active' | 'old' | 'distrusted';
}

/** A rotating signing keyring: its journal and the schedule it follows. */
export interface KeyringFacts {
  readonly slots: readonly KeySlot[];
  readonly schedule: KeySchedule;
  /** How often replicas check for a due step: a step later than two ticks is overdue. */
  readonly tickMs: number;
}

/** Where the master key comes from, and the file's protection. */
export interface MasterKeyFacts {
  readonly source: 'inline' | 'file' | 'generated';
  /** The file, for `file` and `generated`. */
  readonly path?: string;
  readonly dataDir: string;
  /** {@link path} with symlinks resolved, when it exists. */
  readonly resolvedPath?: string;
  /** {@link dataDir} with symlinks resolved, when it exists. */
  readonly resolvedDataDir?: string;
  /** Permission bits of the file (`0o600`), when it could be read. */
  readonly mode?: number;
  /** Why the file could not be examined. */
  readonly statError?: string;
}

/** A grant of the policy in force, reduced to what least privilege asks about. */
export interface GrantFacts {
  /** `key:<id>`, a SPIFFE ID, or a SPIFFE ID pattern ending in `/*`. */
  readonly subject: string;
  /** `*` was granted (every path) for read or write. */
  readonly readAll: boolean;
  readonly writeAll: boolean;
}

/** A registration of the policy in force, reduced to where its identities may land. */
export interface RegistrationFacts {
  /** Its index in `workloads`. */
  readonly index: number;
  readonly namespace: string;
  /** The SPIFFE ID template as written. */
  readonly template: string;
  readonly ttlSeconds: number | undefined;
  /** May render IDs outside `/ns/<namespace>/` (`allowForeignPath: true`). */
  readonly allowForeignPath: boolean;
  /** Renders IDs outside `/ns/<namespace>/` although it may not (stored before confinement). */
  readonly unconfined: boolean;
}

/** The policy in force. */
export interface PolicyFacts {
  readonly version: number;
  readonly sha256: string;
  readonly grants: readonly GrantFacts[];
  readonly registrations: readonly RegistrationFacts[];
}

/** The X509-SVID with the longest lifetime among those still valid. */
export interface LiveSvidFacts {
  readonly serial: string;
  readonly spiffeId: string;
  readonly issuedAt: number;
  readonly notAfter: number;
}

/** Where the private keys in use are held. */
export interface HsmFacts {
  /** `HALLMARK_PKCS11_MODULE` (and its token and PIN file) is set. */
  readonly moduleConfigured: boolean;
  readonly tokenLabel?: string;
  /**
   * Private keys stored in PostgreSQL (sealed under the master key), by keyring: read from the
   * key tables, not the configuration, so a token configured but not used cannot pass.
   */
  readonly sealedKeys: Readonly<Record<string, number>>;
}

/** What the audit chain verification found. */
export type AuditChainFacts =
  | { readonly ok: true; readonly rows: number; readonly headSeq: number }
  | { readonly ok: false; readonly rows: number; readonly seq: number; readonly problem: string };

/** The broker's password, described without its value. */
export interface PasswordFacts {
  readonly length: number;
  readonly lowercase: boolean;
  readonly uppercase: boolean;
  readonly digits: boolean;
  readonly symbols: boolean;
  /** Distinct characters. */
  readonly distinct: number;
  /** The username appears in it (case-insensitive). */
  readonly containsUsername: boolean;
}

/** Kubernetes manifests supplied with the request, already parsed. */
export interface ManifestFacts {
  /** Where they came from, as the caller named it (`deploy/`). */
  readonly source: string;
  readonly files: readonly { readonly path: string; readonly sha256: string }[];
  readonly objects: readonly { readonly file: string; readonly object: KubeObject }[];
}

/** One audit sink and how far its receiver is behind the chain. */
export interface SinkFacts {
  readonly name: string;
  /** The last row the receiver confirmed; `undefined` before the first delivery. */
  readonly deliveredSeq: number | undefined;
  /** Rows committed but not yet confirmed. */
  readonly undeliveredRows: number;
  /** Commit time of the oldest row not yet confirmed (epoch ms). */
  readonly oldestUndeliveredAt: number | undefined;
}

/** The audit sinks. */
export interface AuditSinkFacts {
  /** `HALLMARK_AUDIT_SINK_LAG_ALARM`: an undelivered row older than this is a lag. */
  readonly lagAlarmSeconds: number;
  readonly sinks: readonly SinkFacts[];
}

/** Signed audit checkpoints. */
export interface CheckpointFacts {
  /** How often a checkpoint is due. */
  readonly intervalSeconds: number;
  /** How often the checkpointer looks whether one is due (ms). */
  readonly tickMs: number;
  /** The newest checkpoint, if any. */
  readonly latest: { readonly seq: number; readonly signedAt: number } | undefined;
  /** The first audit row no checkpoint covers yet, if any. */
  readonly oldestUnsigned: { readonly seq: number; readonly committedAt: number } | undefined;
}

/** How long audit rows are kept, and where. */
export interface RetentionFacts {
  /** Rows kept available in PostgreSQL for this long (seconds); `undefined`: forever. */
  readonly onlineSeconds: number | undefined;
  /** Segments kept until their rows are this old (seconds); `undefined`: no archive. */
  readonly archiveSeconds: number | undefined;
  /** Where segments are written (`HALLMARK_AUDIT_ARCHIVE_DIR`); `undefined`: nowhere. */
  readonly archiveDir: string | undefined;
}

/** Everything the controls read; gathered by I/O, evaluated purely. */
export interface InstallationSnapshot {
  /** When it was gathered (epoch ms, the server's clock). */
  readonly now: number;
  readonly server: {
    readonly trustDomain: string;
    readonly publicUrl: string;
    readonly version: string;
  };
  readonly masterKey: MasterKeyFacts;
  readonly ca: {
    readonly ttlSeconds: number;
    readonly tickMs: number;
    readonly authorities: readonly CaFacts[];
    /** The operator's chain above Hallmark's CAs (`HALLMARK_UPSTREAM_CA_CERT`), if any. */
    readonly upstream: readonly CertificateFacts[] | undefined;
  };
  readonly accessTokenKeys: KeyringFacts;
  readonly jwtAuthorities: KeyringFacts;
  readonly hsm: HsmFacts;
  readonly lifetimes: {
    readonly tokenTtlSeconds: number;
    readonly jwtSvidTtlSeconds: number;
    readonly svidTtlSeconds: number;
    readonly maxSvidTtlSeconds: number;
    readonly liveSvids: number;
    readonly longestLiveSvid: LiveSvidFacts | undefined;
  };
  readonly adminKey: { readonly createdAt: number; readonly revoked: boolean } | undefined;
  readonly broker: { readonly password: PasswordFacts } | undefined;
  readonly policy: PolicyFacts;
  readonly audit: AuditChainFacts;
  readonly tls: {
    readonly minVersion: string;
    readonly ciphers: readonly string[];
    /** The certificate the listener presents now, and the chain it sends. */
    readonly certificate: CertificateFacts;
    /** When the server re-issues it (epoch ms). */
    readonly renewAt: number;
  };
  /** The audit sinks configured (`HALLMARK_AUDIT_SYSLOG`, `HALLMARK_AUDIT_WEBHOOK`) and how far behind each is. */
  readonly auditSinks: AuditSinkFacts;
  /** Signed audit checkpoints; `undefined` when this server does not make them. */
  readonly checkpoints: CheckpointFacts | undefined;
  /** The key that signs checkpoints; `undefined` when this server has none. */
  readonly checkpointKeys: KeyringFacts | undefined;
  /** Audit archiving and retention; `undefined` when this server has no archive policy. */
  readonly retention: RetentionFacts | undefined;
  /** Supplied by `hallmark compliance --manifests DIR`; `undefined` when none were sent. */
  readonly manifests: ManifestFacts | undefined;
  /** Supplied by `hallmark compliance` (npm audit); `undefined` when none was sent. */
  readonly dependencies: DependencyAudit | undefined;
}
