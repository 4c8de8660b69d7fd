// `audit archive`: writes a checkpointed prefix of the chain to a segment and deletes it, in one step.
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import {
  ChainVerifier,
  GENESIS_HASH,
  auditRowHash,
  deleteChainPrefix,
  lastAuditSeqBefore,
  readAuditPage,
  type AuditLog,
  type AuditRecord,
} from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import { ADVISORY_LOCKS, type Database, type Queryable } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import {
  removeSegment,
  segmentFiles,
  segmentLine,
  writeSegment,
  SEGMENT_FORMAT,
  SEGMENT_VERSION,
  type SegmentManifest,
} from './archive-segment.js';
import { verifyWrittenSegment } from './archive-verification.js';
import { verifyCheckpointJws } from './checkpoint-statement.js';
import { readBase, readCheckpoints, readHead, storedCheckpointKeys } from './checkpoint-store.js';

/** Where the archive stops: rows before a seq, or rows older than a time (epoch ms). */
export type ArchiveBoundary = { readonly seq: number } | { readonly time: number };

/** What {@link archiveAudit} needs. */
export interface ArchiveRequest {
  readonly db: Database;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly before: ArchiveBoundary;
  readonly dir: string;
  /** Who archives, for the audit row (`cli:<user>` from the command line). */
  readonly actor: string;
  /** At most this many rows per segment (the automatic archive bounds its transaction). */
  readonly maxRows?: number;
}

/** What an archive did. */
export interface ArchiveResult {
  readonly manifest: SegmentManifest;
  readonly files: { readonly rows: string; readonly manifest: string };
  /** Sinks whose receiver had not confirmed every archived row (they report a gap). */
  readonly sinksBehind: readonly { readonly sink: string; readonly seq: number }[];
}

function describe(before: ArchiveBoundary): string {
  return 'seq' in before
    ? `before=seq:${before.seq}`
    : `before=${new Date(before.time).toISOString()}`;
}

async function writableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new HallmarkError('ERR_AUDIT_ARCHIVE_DIR', {
      detail: `cannot write to ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    });
  }
}

/** The last seq the boundary allows (rows strictly before it). */
async function upperBound(
  tx: Queryable,
  before: ArchiveBoundary,
  headSeq: number,
  now: number,
): Promise<number> {
  if ('seq' in before) {
    if (before.seq > headSeq + 1) {
      throw new HallmarkError('ERR_AUDIT_ARCHIVE_BEYOND_HEAD', {
        detail: `--before ${before.seq} is past the chain head (seq ${headSeq})`,
      });
    }
    return before.seq - 1;
  }
  if (before.time > now) {
    throw new HallmarkError('ERR_AUDIT_ARCHIVE_BEYOND_HEAD', {
      detail: `--before ${new Date(before.time).toISOString()} is in the future`,
    });
  }
  return lastAuditSeqBefore(tx, new Date(before.time));
}

/** The retained rows from `after` to `last`, as segment lines, each checked against the chain. */
async function* segmentRows(
  tx: Queryable,
  start: { seq: number; hash: string },
  last: number,
): AsyncGenerator<string> {
  const verifier = new ChainVerifier(start);
  for (let after = start.seq; after < last;) {
    const page = (await readAuditPage(tx, after, 5_000)).filter((row) => row.seq <= last);
    if (page.length === 0) break;
    for (const row of page) {
      if (!verifier.add(row)) break;
      yield segmentLine(row);
    }
    after = (page.at(-1) as AuditRecord).seq;
  }
  const verdict = verifier.finish({ seq: last, hash: (await auditRowHash(tx, last)) ?? '' });
  if (!verdict.ok) {
    throw new HallmarkError('ERR_AUDIT_CHAIN_BROKEN', {
      detail: `not archiving a broken chain: seq ${verdict.seq}: ${verdict.problem}`,
    });
  }
}

async function archiveRun(
  request: ArchiveRequest,
  when: 'asked' | 'due',
): Promise<ArchiveResult | undefined> {
  const { db, audit, clock, dir } = request;
  let files: { rows: string; manifest: string } | undefined;
  let committed = false;
  try {
    await writableDir(dir);
    const result = await db.transaction(async (tx) => {
      if (when === 'asked') {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.auditArchive]);
      } else {
        const lock = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
          ADVISORY_LOCKS.auditArchive,
        ]);
        // Another replica (or an operator's archive) is at it: its result is ours.
        if (lock.rows[0]?.ok !== true) return undefined;
      }
      const head = (await readHead(tx)) ?? { seq: 0, hash: GENESIS_HASH };
      const start = (await readBase(tx)) ?? { seq: 0, hash: GENESIS_HASH };
      const now = clock.now();
      const bound = await upperBound(tx, request.before, head.seq, now);
      const upTo = Math.min(bound, start.seq + (request.maxRows ?? Number.MAX_SAFE_INTEGER));
      const closingRows = await tx.query<{ seq: string }>(
        'SELECT max(seq) AS seq FROM audit_checkpoints WHERE seq > $1 AND seq <= $2',
        [start.seq, upTo],
      );
      const last = Number(closingRows.rows[0]?.seq ?? 0);
      // Nothing due is the normal state of a periodic archive, not a refusal to audit.
      if (last === 0 && when === 'due') return undefined;
      if (last === 0) {
        throw new HallmarkError('ERR_AUDIT_ARCHIVE_NOTHING', {
          detail: `no signed checkpoint between seq ${start.seq + 1} and seq ${upTo}`,
        });
      }
      const checkpoints = await readCheckpoints(tx, start.seq, 1_000_000, last);
      const closing = checkpoints.at(-1) as (typeof checkpoints)[number];
      const keys = await storedCheckpointKeys(tx);
      const statement = await verifyCheckpointJws(closing.jws, keys);
      if (statement.seq !== closing.seq || statement.hash !== closing.hash) {
        throw new HallmarkError('ERR_AUDIT_CHECKPOINT_INVALID', {
          detail: `stored checkpoint ${closing.seq} differs from the statement it signs`,
        });
      }
      files = segmentFiles(dir, start.seq + 1, last);
      const manifest = await writeSegment(files, segmentRows(tx, start, last), (sha256) => ({
        format: SEGMENT_FORMAT,
        v: SEGMENT_VERSION,
        trust_domain: statement.trust_domain,
        first: start.seq + 1,
        last,
        rows: last - start.seq,
        prev_hash: start.hash,
        last_hash: closing.hash,
        sha256,
        checkpoint: closing,
        checkpoints,
        keys,
        archived_at: new Date(now).toISOString(),
      })).catch((err: unknown) => {
        if (err instanceof HallmarkError) throw err;
        throw new HallmarkError('ERR_AUDIT_ARCHIVE_DIR', {
          detail: `cannot write the segment: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        });
      });
      // Read back from the disk before a row is deleted: what the archive holds, not what we sent.
      await verifyWrittenSegment(files, manifest);
      await deleteChainPrefix(tx, last);
      await tx.query('DELETE FROM audit_checkpoints WHERE seq < $1', [last]);
      await tx.query(
        `INSERT INTO audit_base (id, seq, hash) VALUES (true, $1, $2)
         ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash`,
        [last, closing.hash],
      );
      await audit.stage(tx, {
        actor: request.actor,
        action: 'audit.archived',
        target: `seq ${manifest.first}-${manifest.last} sha256:${manifest.sha256}`,
        outcome: 'success',
      });
      const behind = await tx.query<{ sink: string; seq: string }>(
        'SELECT sink, seq FROM audit_sink_cursors WHERE seq < $1 ORDER BY sink',
        [last],
      );
      return {
        manifest,
        files,
        sinksBehind: behind.rows.map((row) => ({ sink: row.sink, seq: Number(row.seq) })),
      };
    });
    committed = true;
    await audit.settle();
    return result;
  } catch (err) {
    if (committed) throw err;
    if (files !== undefined) await removeSegment(files);
    if (err instanceof HallmarkError && err.code !== 'ERR_AUDIT_UNAVAILABLE') {
      await audit.append({
        actor: request.actor,
        action: 'audit.archive.denied',
        target: describe(request.before),
        outcome: 'denied',
        reason: err.code,
      });
    }
    throw err;
  }
}

/**
 * Archives the retained chain up to the newest stored checkpoint before the boundary: the
 * rows go to a segment in `dir` (verified as written: chained from the anchor, ending on the
 * checkpoint's hash) with a manifest holding the closing checkpoint, every checkpoint of the
 * range and the public keys; then, in the transaction that read them, the rows and the
 * checkpoints below the closing one are deleted, the closing one becomes the retained chain's
 * anchor (`audit_base`), and an `audit.archived` row naming the range and the segment's digest
 * is staged. The files are removed again if that transaction does not commit. A refusal
 * (boundary past the head, nothing checkpointed, an unwritable directory, a broken chain)
 * deletes nothing and is audited as `audit.archive.denied`. The segment is read back from the
 * disk and verified (digest, chain to the closing checkpoint) before any row is deleted.
 */
export async function archiveAudit(request: ArchiveRequest): Promise<ArchiveResult> {
  return (await archiveRun(request, 'asked')) as ArchiveResult;
}

/**
 * The retention policy's archive: the same step as {@link archiveAudit}, but it waits for no
 * one and refuses nothing that is merely not due. Resolves undefined when another replica holds
 * the archive lock or no signed checkpoint closes rows before the boundary (no audit row then);
 * a failure (unwritable directory, a segment that does not read back, a broken chain) deletes
 * nothing, is audited as `audit.archive.denied` and rejects.
 */
export async function archiveDue(request: ArchiveRequest): Promise<ArchiveResult | undefined> {
  return archiveRun(request, 'due');
}
