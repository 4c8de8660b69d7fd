// `hallmark audit verify|archive|hunt`: work on the chain straight in PostgreSQL (server up or down).
import path from 'node:path';
import { systemClock } from '../clock/index.js';
import { ConfigError, EnvReader, parseDuration, rejectUnknownVariables } from '../config/index.js';
import { Database, startEmbeddedPostgres } from '../db/index.js';
import { parseBoundary, runArchive } from './audit-archive.js';
import { loadHunt, parsePlaceholders, runHunt } from './audit-hunt.js';
import { runVerify } from './audit-verify.js';
import { EXIT, UsageError, parseVariableFlags, type CliIo, type Command } from './command.js';

/** Opens the database: DATABASE_URL, or the embedded cluster of the data directory. */
async function openDatabase(
  flags: Record<string, string>,
  env: CliIo['env'],
): Promise<{ db: Database; close: () => Promise<void> }> {
  const reader = new EnvReader({
    env,
    flags: { ...flags, DATABASE_URL: flags['HALLMARK_DATABASE_URL'] },
  });
  const url = reader.optional('DATABASE_URL');
  const dataDir = path.resolve(reader.string('HALLMARK_DATA_DIR', './.hallmark'));
  // The embedded cluster may already be running under a server; starting it again would
  // fail on its lock file, so connect to the remembered port first.
  let stop: (() => Promise<void>) | undefined;
  let dbUrl = url;
  if (dbUrl === undefined) {
    const cluster = await startEmbeddedPostgres({
      dir: path.join(dataDir, 'pg'),
      reuseRunning: true,
    });
    dbUrl = cluster.url;
    stop = cluster.stop;
  }
  const db = new Database(dbUrl, { max: 2 });
  return {
    db,
    close: async () => {
      await db.close();
      await stop?.();
    },
  };
}

export const auditCommand: Command = {
  name: 'audit',
  summary: 'verify the tamper-evident audit chain and its checkpoints; archive it; hunt it',
  usage: `hallmark audit verify [--checkpoints FILE|- ...] [--archive DIR] [--keys JWKS] [--data-dir DIR] [--database-url URL]
hallmark audit archive --before SEQ|DATE --to DIR [--data-dir DIR] [--database-url URL]
hallmark audit hunt RULE.yml [--since DURATION] [--placeholder NAME=V1,V2 ...] [--data-dir DIR] [--database-url URL]

Reads the audit table directly: from DATABASE_URL, or from the embedded PostgreSQL in the data
directory (started for the check if the server is not running).
verify: reads one consistent snapshot; exits 0 if the chain is intact, 1 naming the first broken
seq otherwise. Rows that committed with their change but are not chained yet (a server chains
them within a second) are counted apart, not as a break. It checks every stored checkpoint's
signature and row; --checkpoints (JSON lines as a SIEM received them: CloudEvents, syslog
messages or bare checkpoints; - for stdin) proves each is still in the database, naming the rows
missing; --archive verifies archived segments (offline when no database is named) and that the
database continues them; --keys pins the checkpoint keys (a saved GET /v1/audit/keys).
archive: writes the rows before the boundary, up to the last signed checkpoint, to a segment in
DIR with that checkpoint, and deletes them in the same transaction (audited as audit.archived).
hunt: evaluates a Sigma rule (or an event_count correlation) over the chain in its OCSF form and
prints each matching event as a JSON line; exits 0 when something matched, 1 when nothing did,
2 when the rule cannot be used.`,
  async run(args, io) {
    const { flags, values, positionals } = parseVariableFlags(
      args,
      ['HALLMARK_DATA_DIR', 'HALLMARK_DATABASE_URL'],
      {
        since: { type: 'string' },
        placeholder: { type: 'string', multiple: true },
        checkpoints: { type: 'string', multiple: true },
        archive: { type: 'string' },
        keys: { type: 'string' },
        before: { type: 'string' },
        to: { type: 'string' },
      },
    );
    const sub = positionals[0];
    if (
      !(sub === 'verify' && positionals.length === 1) &&
      !(sub === 'archive' && positionals.length === 1) &&
      !(sub === 'hunt' && positionals.length === 2)
    )
      throw new UsageError('expected "verify", "archive" or "hunt RULE.yml"');
    try {
      rejectUnknownVariables(io.env);
    } catch (err) {
      if (err instanceof ConfigError) {
        io.err(`hallmark: invalid configuration: ${err.message}`);
        return EXIT.usage;
      }
      throw err;
    }
    let hunt;
    let sinceMs: number | undefined;
    if (sub === 'hunt') {
      const since = values['since'];
      if (typeof since === 'string') {
        const seconds = parseDuration(since);
        if (seconds === undefined)
          throw new UsageError(`--since takes a duration such as 15m, 24h or 7d`);
        sinceMs = seconds * 1000;
      }
      hunt = await loadHunt(
        positionals[1] as string,
        parsePlaceholders((values['placeholder'] as string[]) ?? []),
      );
    }
    const verifyOptions = {
      checkpointFiles: (values['checkpoints'] as string[] | undefined) ?? [],
      archiveDir: values['archive'] as string | undefined,
      keysFile: values['keys'] as string | undefined,
    };
    const boundary =
      sub === 'archive' ? parseBoundary(values['before'] as string | undefined) : undefined;
    if (sub === 'archive' && typeof values['to'] !== 'string')
      throw new UsageError('--to DIR is required');
    // An archive alone is checked offline unless a database is named.
    const named =
      flags['HALLMARK_DATABASE_URL'] ??
      flags['HALLMARK_DATA_DIR'] ??
      io.env['DATABASE_URL'] ??
      io.env['HALLMARK_DATA_DIR'];
    if (sub === 'verify' && verifyOptions.archiveDir !== undefined && named === undefined) {
      return await runVerify(undefined, verifyOptions, io);
    }
    const { db, close } = await openDatabase(flags, io.env);
    try {
      if (boundary !== undefined)
        return await runArchive(db, { before: boundary, dir: values['to'] as string }, io);
      if (hunt === undefined) return await runVerify(db, verifyOptions, io);
      const printed = await runHunt(db, hunt, io.out, { sinceMs, clock: systemClock });
      return printed > 0 ? EXIT.ok : EXIT.failure;
    } finally {
      await close();
    }
  },
};
