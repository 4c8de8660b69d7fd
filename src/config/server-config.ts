// The server's configuration: raw environment and flags → validated → frozen, once, at start.
import path from 'node:path';
import { getCiphers } from 'node:tls';
import {
  AUDIT_SINK_VARIABLES,
  readAuditSinks,
  type AuditSinksConfig,
} from './audit-sink-config.js';
import {
  AUDIT_CHECKPOINT_VARIABLES,
  readAuditCheckpoints,
  type AuditCheckpointConfig,
} from './audit-checkpoint-config.js';
import {
  AUDIT_RETENTION_VARIABLES,
  readAuditRetention,
  type AuditRetentionConfig,
} from './audit-retention-config.js';
import { ConfigError } from './config-error.js';
import { EnvReader, type ConfigSource } from './env-reader.js';
import {
  readFederationConfig,
  readOidcIssuer,
  type FederationConfig,
  type JwtSvidKeyType,
} from './federation-config.js';
import { readWorkers } from './worker-count.js';

/** Key algorithms the CA may use. */
export type CaKeyType = 'ec-p256' | 'ec-p384' | 'rsa-3072';

/** Where the 32-byte master key comes from. */
export type MasterKeySource =
  | { kind: 'inline'; key: Buffer }
  | { kind: 'file'; path: string }
  | { kind: 'generated'; path: string };

/** Where the signing keys live when a PKCS#11 token holds them. */
export interface Pkcs11Config {
  /** The PKCS#11 library (`HALLMARK_PKCS11_MODULE`), an absolute path. */
  readonly modulePath: string;
  /** The token's label (`HALLMARK_PKCS11_TOKEN`). */
  readonly tokenLabel: string;
  /** The file holding the user PIN (`HALLMARK_PKCS11_PIN_FILE`); the PIN is never a variable. */
  readonly pinFile: string;
}

/** Validated, frozen server configuration. */
export interface ServerConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly trustDomain: string;
  readonly masterKey: MasterKeySource;
  readonly kubeconfigPath: string | undefined;
  /** True inside a pod (KUBERNETES_SERVICE_HOST set): use the in-cluster service account. */
  readonly inCluster: boolean;
  readonly kubernetesAudience: string;
  readonly kubernetesTimeoutMs: number;
  readonly svidTtlSeconds: number;
  readonly maxSvidTtlSeconds: number;
  readonly tokenTtlSeconds: number;
  readonly jwtSvidTtlSeconds: number;
  /** Key type of new JWT authorities (`HALLMARK_JWT_SVID_KEY_TYPE`, default `ec-p256`). */
  readonly jwtSvidKeyType: JwtSvidKeyType;
  /** `HALLMARK_OIDC_ISSUER`: `iss` of JWT-SVIDs and the OIDC discovery issuer; unset: off. */
  readonly oidcIssuer: string | undefined;
  /** The SPIFFE bundle endpoint: its listener, Web PKI certificate and trusted Web CAs. */
  readonly federation: FederationConfig;
  readonly caKeyType: CaKeyType;
  readonly caTtlSeconds: number;
  readonly upstreamCa: { readonly certPath: string; readonly keyPath: string } | undefined;
  /** Set when keys are generated and used in a PKCS#11 token; `undefined`: sealed in PostgreSQL. */
  readonly pkcs11: Pkcs11Config | undefined;
  readonly serverNames: readonly string[];
  /**
   * TLS 1.2 cipher suites of the listener (`HALLMARK_TLS_CIPHERS`, OpenSSL names);
   * `undefined`: Hallmark's default list (ECDHE with AEAD ciphers only).
   */
  readonly tlsCiphers: readonly string[] | undefined;
  readonly publicUrl: string | undefined;
  readonly broker: { readonly username: string; readonly password: string } | undefined;
  readonly secretMaxBytes: number;
  /** Bytes of sealed secret versions kept in memory (`HALLMARK_SECRET_CACHE_BYTES`; 0: none). */
  readonly secretCacheBytes: number;
  readonly rateLimitPerMinute: number;
  /**
   * The pre-authentication limit per source address: a token bucket of `burst` refilled at
   * `ratePerSecond`, charged by each request that fails or is in flight on a route that
   * authenticates; refusals beyond it are audited as one row per address every `auditIntervalSeconds`.
   * Callers' refusals before authentication get a row each up to `auditRowsPerInterval` per
   * interval over all addresses, and are summed the same way beyond it.
   */
  readonly preauth: {
    readonly ratePerSecond: number;
    readonly burst: number;
    readonly auditIntervalSeconds: number;
    readonly auditRowsPerInterval: number;
  };
  /** TokenReviews in flight at once, over all callers (`HALLMARK_TOKENREVIEW_CONCURRENCY`). */
  readonly tokenReviewConcurrency: number;
  /** `HALLMARK_LOG_FORMAT`: `auto` (pretty on a terminal, JSON otherwise), `json` or `pretty`. */
  readonly logFormat: 'auto' | 'json' | 'pretty';
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Streaming the audit chain to the SOC: syslog and webhook receivers, payload format. */
  readonly auditSinks: AuditSinksConfig;
  /** Signed checkpoints of the audit chain: cadence and key rotation. */
  readonly auditCheckpoints: AuditCheckpointConfig;
  /** Server processes sharing the listener (`HALLMARK_WORKERS`, `auto` resolved); 1: no cluster. */
  readonly workers: number;
  /** The audit retention policy: archive directory, online and total retention. */
  readonly auditRetention: AuditRetentionConfig;
}

/**
 * Every variable any Hallmark binary reads. The sidecar's names are listed too because one
 * ConfigMap serves the server, the sidecar and `hallmark exec`; anything else starting with
 * `HALLMARK_` is a typo and stops start-up.
 */
export const KNOWN_VARIABLES: readonly string[] = [
  'HALLMARK_LISTEN',
  'HALLMARK_DATA_DIR',
  'HALLMARK_TRUST_DOMAIN',
  'HALLMARK_MASTER_KEY',
  'HALLMARK_MASTER_KEY_FILE',
  'HALLMARK_KUBECONFIG',
  'HALLMARK_K8S_AUDIENCE',
  'HALLMARK_K8S_TIMEOUT',
  'HALLMARK_SVID_TTL',
  'HALLMARK_MAX_SVID_TTL',
  'HALLMARK_TOKEN_TTL',
  'HALLMARK_JWT_SVID_TTL',
  'HALLMARK_JWT_SVID_KEY_TYPE',
  'HALLMARK_OIDC_ISSUER',
  'HALLMARK_FEDERATION_LISTEN',
  'HALLMARK_FEDERATION_TLS_CERT',
  'HALLMARK_FEDERATION_TLS_KEY',
  'HALLMARK_FEDERATION_WEB_CA',
  'HALLMARK_CA_KEY_TYPE',
  'HALLMARK_CA_TTL',
  'HALLMARK_UPSTREAM_CA_CERT',
  'HALLMARK_UPSTREAM_CA_KEY',
  'HALLMARK_PKCS11_MODULE',
  'HALLMARK_PKCS11_TOKEN',
  'HALLMARK_PKCS11_PIN_FILE',
  'HALLMARK_SERVER_NAMES',
  'HALLMARK_TLS_CIPHERS',
  'HALLMARK_PUBLIC_URL',
  'HALLMARK_BROKER_USERNAME',
  'HALLMARK_BROKER_PASSWORD',
  'HALLMARK_SECRET_MAX_BYTES',
  'HALLMARK_SECRET_CACHE_BYTES',
  'HALLMARK_RATE_LIMIT',
  'HALLMARK_PREAUTH_RATE',
  'HALLMARK_PREAUTH_BURST',
  'HALLMARK_PREAUTH_AUDIT_INTERVAL',
  'HALLMARK_PREAUTH_AUDIT_ROWS',
  'HALLMARK_TOKENREVIEW_CONCURRENCY',
  'HALLMARK_LOG_LEVEL',
  'HALLMARK_LOG_FORMAT',
  'HALLMARK_WORKERS',
  ...AUDIT_SINK_VARIABLES,
  ...AUDIT_CHECKPOINT_VARIABLES,
  ...AUDIT_RETENTION_VARIABLES,
  // client side: sidecar, exec, admin CLI
  'HALLMARK_SERVER_URL',
  'HALLMARK_SERVER_BUNDLE',
  'HALLMARK_TOKEN_PATH',
  'HALLMARK_OUTPUT_DIR',
  'HALLMARK_HEALTH_LISTEN',
  'HALLMARK_KEY_TYPE',
  'HALLMARK_ADMIN_KEY',
  'HALLMARK_ONCE_TIMEOUT',
  'HALLMARK_ACCESS_TOKEN_FILE',
];

const DAY = 86_400;

/** Refuses unknown `HALLMARK_*` variables so a typo cannot silently fall back to a default. */
export function rejectUnknownVariables(env: ConfigSource['env']): void {
  for (const name of Object.keys(env)) {
    if (name === 'HALLMARK_PKCS11_PIN') {
      throw new ConfigError(
        name,
        'the PIN is read only from the file HALLMARK_PKCS11_PIN_FILE names',
      );
    }
    if (name.startsWith('HALLMARK_') && !KNOWN_VARIABLES.includes(name)) {
      throw new ConfigError(name, 'unknown variable');
    }
  }
}

/** Trust domain syntax per the SPIFFE-ID spec §2.1 (lowercase letters, digits, `.`, `-`, `_`). */
function checkTrustDomain(name: string, value: string): string {
  if (!/^[a-z0-9._-]{1,255}$/.test(value)) {
    throw new ConfigError(
      name,
      'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores',
    );
  }
  return value;
}

function readMasterKey(reader: EnvReader, dataDir: string): MasterKeySource {
  const inline = reader.optional('HALLMARK_MASTER_KEY');
  const file = reader.optional('HALLMARK_MASTER_KEY_FILE');
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError(
      'HALLMARK_MASTER_KEY',
      'set HALLMARK_MASTER_KEY or HALLMARK_MASTER_KEY_FILE, not both',
    );
  }
  if (inline !== undefined) {
    const key = Buffer.from(inline, 'base64');
    if (key.length !== 32 || key.toString('base64') !== inline.trim()) {
      throw new ConfigError('HALLMARK_MASTER_KEY', 'must be exactly 32 bytes, base64-encoded');
    }
    return { kind: 'inline', key };
  }
  if (file !== undefined) return { kind: 'file', path: path.resolve(file) };
  return { kind: 'generated', path: path.join(dataDir, 'master.key') };
}

function readBroker(reader: EnvReader): ServerConfig['broker'] {
  const username = reader.optional('HALLMARK_BROKER_USERNAME');
  const password = reader.optional('HALLMARK_BROKER_PASSWORD');
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined)
    throw new ConfigError(
      'HALLMARK_BROKER_USERNAME',
      'required when HALLMARK_BROKER_PASSWORD is set',
    );
  if (password === undefined)
    throw new ConfigError(
      'HALLMARK_BROKER_PASSWORD',
      'required when HALLMARK_BROKER_USERNAME is set',
    );
  if (password.length < 16)
    throw new ConfigError('HALLMARK_BROKER_PASSWORD', 'must be at least 16 characters');
  return { username, password };
}

function readUpstream(reader: EnvReader): ServerConfig['upstreamCa'] {
  const certPath = reader.optional('HALLMARK_UPSTREAM_CA_CERT');
  const keyPath = reader.optional('HALLMARK_UPSTREAM_CA_KEY');
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined)
    throw new ConfigError(
      'HALLMARK_UPSTREAM_CA_CERT',
      'required when HALLMARK_UPSTREAM_CA_KEY is set',
    );
  if (keyPath === undefined)
    throw new ConfigError(
      'HALLMARK_UPSTREAM_CA_KEY',
      'required when HALLMARK_UPSTREAM_CA_CERT is set',
    );
  return { certPath: path.resolve(certPath), keyPath: path.resolve(keyPath) };
}

/** CK_TOKEN_INFO.label is 32 bytes, blank-padded (PKCS #11 v2.40 §3.2). */
const TOKEN_LABEL_BYTES = 32;

function readPkcs11(reader: EnvReader): Pkcs11Config | undefined {
  const modulePath = reader.optional('HALLMARK_PKCS11_MODULE');
  const tokenLabel = reader.optional('HALLMARK_PKCS11_TOKEN');
  const pinFile = reader.optional('HALLMARK_PKCS11_PIN_FILE');
  if (modulePath === undefined) {
    for (const [name, value] of [
      ['HALLMARK_PKCS11_TOKEN', tokenLabel],
      ['HALLMARK_PKCS11_PIN_FILE', pinFile],
    ] as const) {
      if (value !== undefined)
        throw new ConfigError('HALLMARK_PKCS11_MODULE', `required when ${name} is set`);
    }
    return undefined;
  }
  if (!path.isAbsolute(modulePath)) {
    throw new ConfigError(
      'HALLMARK_PKCS11_MODULE',
      `expected an absolute path, got "${modulePath}"`,
    );
  }
  if (tokenLabel === undefined) {
    throw new ConfigError('HALLMARK_PKCS11_TOKEN', 'required when HALLMARK_PKCS11_MODULE is set');
  }
  if (
    Buffer.byteLength(tokenLabel) > TOKEN_LABEL_BYTES ||
    tokenLabel !== tokenLabel.trim() ||
    [...tokenLabel].some((c) => c.charCodeAt(0) < 0x20)
  ) {
    throw new ConfigError(
      'HALLMARK_PKCS11_TOKEN',
      `a token label is at most ${TOKEN_LABEL_BYTES} bytes, without control characters or surrounding blanks`,
    );
  }
  if (pinFile === undefined) {
    throw new ConfigError(
      'HALLMARK_PKCS11_PIN_FILE',
      'required when HALLMARK_PKCS11_MODULE is set',
    );
  }
  return { modulePath, tokenLabel, pinFile: path.resolve(pinFile) };
}

/**
 * `HALLMARK_TLS_CIPHERS`: OpenSSL names of TLS 1.2 suites, `:`-separated. Aliases (`HIGH`,
 * `!aNULL`) are refused so the list says exactly what is offered, and TLS 1.3 suites (fixed by
 * OpenSSL, all AEAD) are not configured here. A known but weak suite is accepted: refusing it is
 * `hallmark compliance`'s job (HM-TLS-01), which names it.
 */
function readTlsCiphers(reader: EnvReader): readonly string[] | undefined {
  const text = reader.optional('HALLMARK_TLS_CIPHERS');
  if (text === undefined) return undefined;
  const known = new Set(getCiphers().map((name) => name.toUpperCase()));
  const names = text.split(':').map((name) => name.trim());
  for (const name of names) {
    if (name.toUpperCase().startsWith('TLS_') || !known.has(name.toUpperCase()) || name === '') {
      throw new ConfigError(
        'HALLMARK_TLS_CIPHERS',
        `"${name}" is not the OpenSSL name of a TLS 1.2 cipher suite (list them separated by ":")`,
      );
    }
  }
  return Object.freeze(names.map((name) => name.toUpperCase()));
}

function readPublicUrl(reader: EnvReader): string | undefined {
  const url = reader.optional('HALLMARK_PUBLIC_URL');
  if (url === undefined) return undefined;
  if (!/^https:\/\/[^\s/]+(\/[^\s]*)?$/.test(url)) {
    throw new ConfigError('HALLMARK_PUBLIC_URL', `expected an https:// URL, got "${url}"`);
  }
  return url.replace(/\/$/, '');
}

/** Validates the server configuration and freezes it. Throws {@link ConfigError}. */
export function loadServerConfig(source: ConfigSource): ServerConfig {
  rejectUnknownVariables(source.env);
  const reader = new EnvReader(source);
  const dataDir = path.resolve(reader.string('HALLMARK_DATA_DIR', './.hallmark'));
  const maxSvidTtlSeconds = reader.duration('HALLMARK_MAX_SVID_TTL', '24h', DAY);
  const serverNames = reader
    .string('HALLMARK_SERVER_NAMES', 'localhost,127.0.0.1')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of serverNames) {
    if (!/^[A-Za-z0-9.*:-]{1,253}$/.test(name)) {
      throw new ConfigError('HALLMARK_SERVER_NAMES', `"${name}" is not a DNS name or IP address`);
    }
  }
  const databaseUrl = reader.optional('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'expected a postgres:// or postgresql:// URL');
  }
  const auditSinks = readAuditSinks(reader);
  const auditCheckpoints = readAuditCheckpoints(reader);
  const config: ServerConfig = {
    listen: reader.listen('HALLMARK_LISTEN', '127.0.0.1:8443'),
    dataDir,
    databaseUrl,
    trustDomain: checkTrustDomain(
      'HALLMARK_TRUST_DOMAIN',
      reader.string('HALLMARK_TRUST_DOMAIN', 'hallmark.local'),
    ),
    masterKey: readMasterKey(reader, dataDir),
    kubeconfigPath: reader.optional('HALLMARK_KUBECONFIG'),
    inCluster: reader.optional('KUBERNETES_SERVICE_HOST') !== undefined,
    kubernetesAudience: reader.string('HALLMARK_K8S_AUDIENCE', 'hallmark'),
    kubernetesTimeoutMs: reader.duration('HALLMARK_K8S_TIMEOUT', '5s', 60) * 1000,
    svidTtlSeconds: reader.duration('HALLMARK_SVID_TTL', '1h', maxSvidTtlSeconds),
    maxSvidTtlSeconds,
    tokenTtlSeconds: reader.duration('HALLMARK_TOKEN_TTL', '8m', DAY),
    jwtSvidTtlSeconds: reader.duration('HALLMARK_JWT_SVID_TTL', '5m', DAY),
    jwtSvidKeyType: reader.oneOf<JwtSvidKeyType>('HALLMARK_JWT_SVID_KEY_TYPE', 'ec-p256', [
      'ec-p256',
      'rsa-2048',
    ]),
    oidcIssuer: readOidcIssuer(reader),
    federation: readFederationConfig(reader),
    caKeyType: reader.oneOf<CaKeyType>('HALLMARK_CA_KEY_TYPE', 'ec-p256', [
      'ec-p256',
      'ec-p384',
      'rsa-3072',
    ]),
    caTtlSeconds: reader.duration('HALLMARK_CA_TTL', '30d', 3650 * DAY),
    upstreamCa: readUpstream(reader),
    pkcs11: readPkcs11(reader),
    serverNames,
    tlsCiphers: readTlsCiphers(reader),
    publicUrl: readPublicUrl(reader),
    broker: readBroker(reader),
    secretMaxBytes: reader.integer('HALLMARK_SECRET_MAX_BYTES', 65_536, 1, 1_048_576),
    secretCacheBytes: reader.integer(
      'HALLMARK_SECRET_CACHE_BYTES',
      32 * 1024 ** 2,
      0,
      4 * 1024 ** 3,
    ),
    rateLimitPerMinute: reader.integer('HALLMARK_RATE_LIMIT', 600, 1, 1_000_000),
    preauth: Object.freeze({
      ratePerSecond: reader.integer('HALLMARK_PREAUTH_RATE', 2, 1, 1_000_000),
      burst: reader.integer('HALLMARK_PREAUTH_BURST', 20, 1, 1_000_000),
      auditIntervalSeconds: reader.duration('HALLMARK_PREAUTH_AUDIT_INTERVAL', '10s', 3600),
      auditRowsPerInterval: reader.integer('HALLMARK_PREAUTH_AUDIT_ROWS', 500, 1, 1_000_000),
    }),
    tokenReviewConcurrency: reader.integer('HALLMARK_TOKENREVIEW_CONCURRENCY', 32, 1, 10_000),
    logFormat: reader.oneOf('HALLMARK_LOG_FORMAT', 'auto', ['auto', 'json', 'pretty'] as const),
    logLevel: reader.oneOf('HALLMARK_LOG_LEVEL', 'info', [
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
      'silent',
    ] as const),
    auditSinks,
    auditCheckpoints,
    workers: readWorkers(reader, source.cores),
    auditRetention: readAuditRetention(reader, {
      checkpointIntervalSeconds: auditCheckpoints.intervalSeconds,
      sinkLagAlarmSeconds: auditSinks.lagAlarmSeconds,
    }),
  };
  return Object.freeze({
    ...config,
    listen: Object.freeze(config.listen),
    pkcs11: config.pkcs11 && Object.freeze(config.pkcs11),
    serverNames: Object.freeze([...serverNames]),
    auditSinks: Object.freeze(config.auditSinks),
    auditCheckpoints: Object.freeze(config.auditCheckpoints),
    auditRetention: Object.freeze(config.auditRetention),
  });
}

/** The URL clients use to reach this server (token `iss`), derived from the listener by default. */
export function publicUrlOf(config: ServerConfig): string {
  if (config.publicUrl !== undefined) return config.publicUrl;
  const host = config.listen.host === '0.0.0.0' ? '127.0.0.1' : config.listen.host;
  return `https://${host}:${config.listen.port}`;
}
