// A PostgreSQL cluster seen from outside, as an operator (or the OOM killer) sees it: pid file, kill, catalog.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

/** The postmaster's pid: the first line of `<cluster dir>/postmaster.pid`. */
export async function postmasterPid(clusterDir: string): Promise<number> {
  const text = await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8');
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`no pid in ${clusterDir}`);
  return pid;
}

/** True while a process with `pid` exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `kill -9` of the postmaster, as the OOM killer does it; returns the pid it killed. */
export async function killPostmaster(clusterDir: string): Promise<number> {
  const pid = await postmasterPid(clusterDir);
  process.kill(pid, 'SIGKILL');
  return pid;
}

/**
 * The URL of the `hallmark` database of the embedded cluster a server runs under
 * `<data dir>/pg` (its port and password are kept in `state.json` beside the cluster).
 */
export async function embeddedDatabaseUrl(dataDir: string): Promise<string> {
  const state = JSON.parse(await readFile(path.join(dataDir, 'pg', 'state.json'), 'utf8')) as {
    port: number;
    password: string;
  };
  return `postgres://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/hallmark`;
}

/**
 * Sessions on `url`'s database whose last statement was a LISTEN and that connected after
 * `since`: a server's notification connection re-established after an outage. Resolves 0
 * while the database cannot be reached.
 */
export async function listenersSince(url: string, since: Date): Promise<number> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND query LIKE 'LISTEN %' AND backend_start > $1`,
      [since],
    );
    return result.rows[0]?.n ?? 0;
  } catch {
    return 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Of `requestIds`, those with no audit row carrying them (chained, or staged with a change). */
export async function unauditedRequests(
  url: string,
  requestIds: readonly string[],
): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ request_id: string }>(
      `SELECT request_id FROM audit_log WHERE request_id = ANY($1::text[])
       UNION SELECT request_id FROM audit_pending WHERE request_id = ANY($1::text[])`,
      [requestIds],
    );
    const audited = new Set(result.rows.map((row) => row.request_id));
    return requestIds.filter((id) => !audited.has(id));
  } finally {
    await client.end();
  }
}
