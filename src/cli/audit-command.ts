// `hallmark audit verify`: walks the hash chain straight from PostgreSQL (works with the server down).
import path from 'node:path';
import { verifyAuditChain } from '../audit/index.js';
import { ConfigError, EnvReader, rejectUnknownVariables } from '../config/index.js';
import { Database, startEmbeddedPostgres } from '../db/index.js';
import { EXIT, UsageError, parseVariableFlags, type Command } from './command.js';

export const auditCommand: Command = {
  name: 'audit',
  summary: 'verify the tamper-evident audit chain',
  usage: `hallmark audit verify [--data-dir DIR] [--database-url URL]

Reads the audit table directly: from DATABASE_URL, or from the embedded PostgreSQL in the data
directory (started for the check if the server is not running). Exits 0 if the chain is intact,
1 naming the first broken seq otherwise.`,
  async run(args, io) {
    const { flags, positionals } = parseVariableFlags(args, [
      'HALLMARK_DATA_DIR',
      'HALLMARK_DATABASE_URL',
    ]);
    if (positionals[0] !== 'verify' || positionals.length !== 1)
      throw new UsageError('expected the subcommand "verify"');
    try {
      rejectUnknownVariables(io.env);
    } catch (err) {
      if (err instanceof ConfigError) {
        io.err(`hallmark: invalid configuration: ${err.message}`);
        return EXIT.usage;
      }
      throw err;
    }
    const reader = new EnvReader({
      env: io.env,
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
    try {
      const verdict = await verifyAuditChain(db);
      if (verdict.ok) {
        io.out(
          `audit chain intact: ${verdict.rows} rows, head seq ${verdict.head.seq} hash ${verdict.head.hash}`,
        );
        return EXIT.ok;
      }
      io.err(
        `audit chain broken at seq ${verdict.seq}: ${verdict.problem} (${verdict.rows} rows verified before it)`,
      );
      return EXIT.failure;
    } finally {
      await db.close();
      await stop?.();
    }
  },
};
