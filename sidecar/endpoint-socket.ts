// SPIFFE_ENDPOINT_SOCKET: where the Workload API listens, a `unix:` URI naming an absolute path.
import path from 'node:path';
import { ConfigError } from '../src/config/index.js';

/** The variable SPIFFE clients and the sidecar share. @see SPIFFE Workload Endpoint §4 */
export const ENDPOINT_SOCKET_VARIABLE = 'SPIFFE_ENDPOINT_SOCKET';

/** Socket file name when the variable is unset: `<output dir>/agent.sock`. */
export const DEFAULT_SOCKET_NAME = 'agent.sock';

/** Linux `sun_path` holds 108 bytes, the last one the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

function refuse(why: string): never {
  throw new ConfigError(ENDPOINT_SOCKET_VARIABLE, why);
}

function checkLength(socketPath: string): string {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    refuse(`socket path ${socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes`);
  }
  return socketPath;
}

/**
 * The socket path named by a `SPIFFE_ENDPOINT_SOCKET` value. Only `unix:` is served: the spec
 * prefers Unix sockets, and TCP would need the caller authenticated by address (§3), which a
 * pod's shared network namespace cannot do. Both `unix:///path` and `unix:/path` are accepted,
 * as go-spiffe does; an authority, user, port, query or fragment is refused (§4).
 * @throws ConfigError naming `SPIFFE_ENDPOINT_SOCKET`.
 */
export function parseEndpointSocket(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    refuse(`expected unix:///absolute/path, got "${value}"`);
  }
  if (url.protocol === 'tcp:') {
    refuse(
      'only unix: sockets are served (the spec prefers them; see SPIFFE Workload Endpoint §3)',
    );
  }
  if (url.protocol !== 'unix:') refuse(`scheme must be unix:, got "${value}"`);
  if (url.host !== '' || url.username !== '' || url.password !== '') {
    refuse(`a unix: URI must not have an authority, got "${value}"`);
  }
  if (url.search !== '' || url.hash !== '') {
    refuse(`a unix: URI must not have a query or fragment, got "${value}"`);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(url.pathname);
  } catch {
    refuse(`malformed percent-encoding in "${value}"`);
  }
  if (!path.isAbsolute(decoded) || decoded.endsWith('/')) {
    refuse(`the socket path must be absolute and name a file, got "${value}"`);
  }
  return checkLength(path.normalize(decoded));
}

/**
 * The socket path from the variable, or `<outputDir>/agent.sock` when it is unset: with the
 * default output directory that is DESIGN's `unix:///run/hallmark/agent.sock`, and the socket
 * stays in the volume the app container already shares.
 * @throws ConfigError naming `SPIFFE_ENDPOINT_SOCKET`.
 */
export function endpointSocketPath(value: string | undefined, outputDir: string): string {
  if (value !== undefined) return parseEndpointSocket(value);
  return checkLength(path.join(outputDir, DEFAULT_SOCKET_NAME));
}
