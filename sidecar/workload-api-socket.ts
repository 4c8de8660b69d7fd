// The Workload API's socket file: a stale one from an earlier run is replaced, a live one is
// not; the socket appears under its name only once it has mode 0660; it is removed on stop.
import { randomBytes } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { chmod, lstat, mkdir, rename, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { HallmarkError } from '../src/errors/index.js';

/**
 * Owner and group may connect (the app container shares the pod's fsGroup); others may not.
 * @see DESIGN "Sidecar": 0660 or stricter.
 */
export const SOCKET_MODE = 0o660;

/** How long probing an existing socket may take before it is judged stale (ms). */
const PROBE_TIMEOUT_MS = 1_000;

function failed(what: string, err: unknown): HallmarkError {
  const code = (err as NodeJS.ErrnoException)?.code ?? String(err);
  return new HallmarkError('ERR_WORKLOADAPI_SOCKET_FAILED', {
    detail: `${what}: ${code}`,
    cause: err,
  });
}

/** True when something accepts connections on the socket at `socketPath`. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const done = (live: boolean): void => {
      socket.destroy();
      resolve(live);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Makes the directory if needed and checks what is at `socketPath`: nothing, or a socket no
 * process answers on (left by a crash; {@link publishSocket} replaces it) are fine.
 * @throws HallmarkError `ERR_WORKLOADAPI_SOCKET_IN_USE` when another process serves it;
 *   `ERR_WORKLOADAPI_SOCKET_FAILED` when it is not a socket (never deleted) or the directory
 *   cannot be made.
 */
export async function prepareSocketPath(socketPath: string): Promise<void> {
  try {
    await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o755 });
  } catch (err) {
    throw failed(`create ${path.dirname(socketPath)}`, err);
  }
  let existing;
  try {
    existing = await lstat(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw failed(`inspect ${socketPath}`, err);
  }
  if (!existing.isSocket()) {
    throw new HallmarkError('ERR_WORKLOADAPI_SOCKET_FAILED', {
      detail: `${socketPath} exists and is not a socket; not replacing it`,
    });
  }
  if (await answers(socketPath)) {
    throw new HallmarkError('ERR_WORKLOADAPI_SOCKET_IN_USE', { detail: socketPath });
  }
}

/** A fresh name beside `socketPath` to bind first (short: socket paths are length-limited). */
export function temporarySocketPath(socketPath: string): string {
  return path.join(path.dirname(socketPath), `.wl-${randomBytes(4).toString('hex')}`);
}

/** The file's identity, so stop removes our socket and never one another process made later. */
export interface SocketIdentity {
  readonly dev: number;
  readonly ino: number;
}

/**
 * Gives the bound temporary socket its mode, then renames it over `socketPath` (atomically
 * replacing a stale socket): no client can ever reach the socket under a looser mode, whatever
 * the umask.
 * @throws HallmarkError `ERR_WORKLOADAPI_SOCKET_FAILED`; the temporary file is removed.
 */
export async function publishSocket(
  temporary: string,
  socketPath: string,
): Promise<SocketIdentity> {
  try {
    await chmod(temporary, SOCKET_MODE);
    await rename(temporary, socketPath);
    const { dev, ino } = await lstat(socketPath);
    return { dev, ino };
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    throw failed(`publish ${socketPath}`, err);
  }
}

/**
 * True while `socketPath` is still the socket we published. Deleted, or replaced by another
 * file, it no longer reaches this server, whatever the server itself thinks. Synchronous: one
 * `lstat` per health probe.
 */
export function isOurSocket(socketPath: string, identity: SocketIdentity): boolean {
  try {
    const now = lstatSync(socketPath);
    return now.isSocket() && now.dev === identity.dev && now.ino === identity.ino;
  } catch {
    return false;
  }
}

/** Removes the socket if it is still the one we published. Never throws. */
export async function removeSocket(socketPath: string, identity: SocketIdentity): Promise<void> {
  try {
    const now = await lstat(socketPath);
    if (now.dev === identity.dev && now.ino === identity.ino) await unlink(socketPath);
  } catch {
    // Already gone (or the directory with it): nothing to clean.
  }
}
