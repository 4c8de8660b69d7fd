// The sidecar's configuration: raw environment and flags → validated → frozen, once, at start.
import path from 'node:path';
import { ConfigError, EnvReader, rejectUnknownVariables } from '../src/config/index.js';
import type { ConfigSource } from '../src/config/index.js';
import { KEY_TYPES } from '../src/x509/index.js';
import type { KeyType } from '../src/x509/index.js';
import { ENDPOINT_SOCKET_VARIABLE, endpointSocketPath } from './endpoint-socket.js';

/** Validated, frozen sidecar configuration. */
export interface SidecarConfig {
  /** Base URL of the Hallmark server, `https://` only, without a trailing slash. */
  readonly serverUrl: string;
  /**
   * CA certificates (PEM file) trusted for the server. `undefined` means "use the
   * `bundle.pem` a previous run wrote to the output directory" — never trust on first use.
   */
  readonly serverBundlePath: string | undefined;
  /** The projected ServiceAccount token; re-read before every attestation. */
  readonly tokenPath: string;
  /** Where `svid.pem`, `svid-key.pem`, `bundle.pem` and `access-token` are written. */
  readonly outputDir: string;
  /** `/healthz` and `/metrics` listener. */
  readonly healthListen: { readonly host: string; readonly port: number };
  /** Key type of the SVID's key pair, generated in memory on every renewal. */
  readonly keyType: KeyType;
  /** How long `--once` may try before giving up (ms). */
  readonly onceTimeoutMs: number;
  /** Init-container mode: exit as soon as all four files are written. */
  readonly once: boolean;
  /**
   * Absolute path of the SPIFFE Workload API's Unix socket (`SPIFFE_ENDPOINT_SOCKET`, default
   * `<outputDir>/agent.sock`). {@link loadSidecarConfig} always sets it; a configuration built
   * by hand without it gets no Workload API from `startSidecar`.
   */
  readonly workloadApiSocket?: string;
}

/** Raw input: the environment, `--flag value` options keyed by variable, and `--once`. */
export interface SidecarConfigSource extends ConfigSource {
  once?: boolean;
}

/**
 * The variables the sidecar reads: its `HALLMARK_*` ones (a subset of `KNOWN_VARIABLES`) and
 * the SPIFFE-defined `SPIFFE_ENDPOINT_SOCKET` (flag `--spiffe-endpoint-socket`).
 */
export const SIDECAR_VARIABLES: readonly string[] = [
  'HALLMARK_SERVER_URL',
  'HALLMARK_SERVER_BUNDLE',
  'HALLMARK_TOKEN_PATH',
  'HALLMARK_OUTPUT_DIR',
  'HALLMARK_HEALTH_LISTEN',
  'HALLMARK_KEY_TYPE',
  'HALLMARK_ONCE_TIMEOUT',
  ENDPOINT_SOCKET_VARIABLE,
];

const HOUR = 3600;

function readServerUrl(reader: EnvReader): string {
  const url = reader.optional('HALLMARK_SERVER_URL');
  if (url === undefined) {
    throw new ConfigError(
      'HALLMARK_SERVER_URL',
      'required (e.g. https://hallmark.hallmark.svc:8443)',
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('HALLMARK_SERVER_URL', `expected an https:// URL, got "${url}"`);
  }
  // Credentials travel on this connection: plain HTTP, userinfo, queries and fragments are refused.
  if (
    parsed.protocol !== 'https:' ||
    parsed.username !== '' ||
    parsed.password !== '' ||
    parsed.search !== '' ||
    parsed.hash !== ''
  ) {
    throw new ConfigError('HALLMARK_SERVER_URL', `expected an https:// URL, got "${url}"`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/**
 * Validates the sidecar configuration and freezes it. Unknown `HALLMARK_*` variables are
 * refused so a typo cannot silently fall back to a default.
 * @throws ConfigError naming the offending variable.
 */
export function loadSidecarConfig(source: SidecarConfigSource): SidecarConfig {
  rejectUnknownVariables(source.env);
  const reader = new EnvReader(source);
  const bundle = reader.optional('HALLMARK_SERVER_BUNDLE');
  const outputDir = path.resolve(reader.string('HALLMARK_OUTPUT_DIR', '/run/hallmark'));
  const config: SidecarConfig = {
    serverUrl: readServerUrl(reader),
    serverBundlePath: bundle === undefined ? undefined : path.resolve(bundle),
    tokenPath: path.resolve(
      reader.string('HALLMARK_TOKEN_PATH', '/var/run/secrets/tokens/hallmark-token'),
    ),
    outputDir,
    healthListen: Object.freeze(reader.listen('HALLMARK_HEALTH_LISTEN', '0.0.0.0:8081')),
    keyType: reader.oneOf<KeyType>('HALLMARK_KEY_TYPE', 'ec-p256', KEY_TYPES),
    onceTimeoutMs: reader.duration('HALLMARK_ONCE_TIMEOUT', '60s', HOUR) * 1000,
    once: source.once ?? false,
    workloadApiSocket: endpointSocketPath(reader.optional(ENDPOINT_SOCKET_VARIABLE), outputDir),
  };
  return Object.freeze(config);
}
