// The server's embedded PostgreSQL: started under supervision, its crashes logged, its loss fatal.
import path from 'node:path';
import type { Logger } from 'pino';
import { startEmbeddedPostgres, type EmbeddedCluster, type SupervisorEvent } from '../db/index.js';

/** A supervised embedded cluster and the news that it is gone for good. */
export interface EmbeddedDatabase {
  readonly cluster: EmbeddedCluster;
  /**
   * Resolves (never rejects) with the reason once the postmaster died and every restart
   * attempt failed: the server cannot serve any more and should exit non-zero.
   */
  readonly lost: Promise<Error>;
}

/** Logs one supervisor event; the pg Pool and the LISTEN connection reconnect on their own. */
function report(log: Logger, event: SupervisorEvent): void {
  switch (event.kind) {
    case 'exited':
      log.error(
        { postmasterPid: event.pid, code: event.code, signal: event.signal },
        'embedded PostgreSQL exited unexpectedly; restarting it',
      );
      return;
    case 'orphans-ended':
      log.warn(
        { found: event.found, killed: event.killed },
        'ended the processes the dead postmaster left running (SIGQUIT, then SIGKILL)',
      );
      return;
    case 'restart-failed':
      log.warn(
        { attempt: event.attempt, reason: event.reason, retryInMs: event.retryInMs },
        'embedded PostgreSQL did not restart; retrying',
      );
      return;
    case 'restarted':
      log.warn(
        { attempt: event.attempt, postmasterPid: event.pid, downMs: event.downMs },
        'embedded PostgreSQL restarted (crash recovery done)',
      );
      return;
    case 'gave-up':
      log.fatal(
        { attempts: event.attempts, reason: event.reason },
        'embedded PostgreSQL could not be restarted',
      );
  }
}

/**
 * Starts (or reuses) the cluster under `<data dir>/pg`, restarting it if it dies.
 * @param settings server settings besides the defaults (`max_connections` sized for the workers).
 */
export async function startEmbeddedDatabase(
  dataDir: string,
  log: Logger,
  settings?: Readonly<Record<string, string>>,
): Promise<EmbeddedDatabase> {
  let lose: (err: Error) => void = () => undefined;
  const lost = new Promise<Error>((resolve) => (lose = resolve));
  const dir = path.join(dataDir, 'pg');
  const cluster = await startEmbeddedPostgres({
    dir,
    settings,
    onLog: (line) => log.debug({ component: 'postgres' }, line),
    supervise: {
      onEvent: (event) => {
        report(log, event);
        if (event.kind === 'gave-up')
          lose(
            new Error(
              `embedded PostgreSQL died and could not be restarted (${event.attempts} attempts): ${event.reason}`,
            ),
          );
      },
    },
  });
  return { cluster, lost };
}
