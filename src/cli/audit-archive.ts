// `hallmark audit archive`: the checkpointed prefix before a boundary to a segment, then deleted.
import os from 'node:os';
import path from 'node:path';
import { PgAuditLog } from '../audit/index.js';
import { archiveAudit, type ArchiveBoundary } from '../checkpoint/index.js';
import { systemClock } from '../clock/index.js';
import type { Database } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import { EXIT, UsageError, type CliIo } from './command.js';

/** `--before SEQ` (rows before it) or `--before DATE` (ISO 8601: rows older than it). */
export function parseBoundary(text: string | undefined): ArchiveBoundary {
  if (text === undefined) throw new UsageError('--before SEQ|DATE is required');
  if (/^[0-9]{1,15}$/.test(text)) {
    const seq = Number(text);
    if (seq < 1) throw new UsageError('--before takes a seq of at least 1');
    return { seq };
  }
  const time = /^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(text)
    ? Date.parse(text)
    : Number.NaN;
  if (Number.isNaN(time)) {
    throw new UsageError(
      `--before takes a seq or an ISO 8601 date (2026-01-31, 2026-01-31T00:00:00Z), got "${text}"`,
    );
  }
  return { time };
}

/** Archives and prints what it did; a refusal prints its code and exits 1 (nothing deleted). */
export async function runArchive(
  db: Database,
  options: { before: ArchiveBoundary; dir: string },
  io: CliIo,
): Promise<number> {
  const audit = new PgAuditLog(db, systemClock);
  try {
    const result = await archiveAudit({
      db,
      audit,
      clock: systemClock,
      before: options.before,
      dir: path.resolve(options.dir),
      actor: `cli:${os.userInfo().username}`,
    });
    const { manifest } = result;
    io.out(
      `archived rows ${manifest.first}–${manifest.last} (${manifest.rows} rows, sha256 ${manifest.sha256}) to ${result.files.rows}`,
    );
    io.out(
      `closed by the checkpoint at seq ${manifest.last}; the database's chain now starts after it`,
    );
    for (const sink of result.sinksBehind) {
      io.err(
        `warning: sink ${sink.sink} had confirmed rows up to seq ${sink.seq} only: it reports rows ${sink.seq + 1}–${manifest.last} as a gap (they are in the segment)`,
      );
    }
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof HallmarkError)) throw err;
    io.err(`hallmark audit archive: ${err.code}: ${err.detail ?? err.message}; nothing deleted`);
    return EXIT.failure;
  } finally {
    await audit.stop();
  }
}
