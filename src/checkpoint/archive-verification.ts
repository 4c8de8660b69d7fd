// `audit verify --archive DIR`: archived segments checked offline, one after the other.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { ChainVerifier, GENESIS_HASH } from '../audit/index.js';
import { HallmarkError } from '../errors/index.js';
import {
  fileDigest,
  fileLines,
  parseSegmentLine,
  segmentFiles,
  SEGMENT_FORMAT,
  SEGMENT_VERSION,
  type SegmentManifest,
} from './archive-segment.js';
import { verifyCheckpointJws, type CheckpointStatement } from './checkpoint-statement.js';
import type { TrailProblem } from './trail-verification.js';

/** The verdict on an archive directory. */
export interface ArchiveVerdict {
  readonly segments: number;
  readonly rows: number;
  /** First seq archived (1 when the archive starts at genesis). */
  readonly first: number | undefined;
  /** The last archived row: where the live chain must continue from. */
  readonly last: { readonly seq: number; readonly hash: string } | undefined;
  /** Received checkpoints proven by the archive's rows. */
  readonly matched: number;
  readonly problems: readonly TrailProblem[];
}

function problem(message: string): TrailProblem {
  return { code: 'ERR_AUDIT_ARCHIVE_INVALID', message };
}

async function manifests(dir: string, problems: TrailProblem[]): Promise<SegmentManifest[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.manifest.json')).sort();
  } catch (err) {
    problems.push(problem(`cannot read ${dir}: ${(err as NodeJS.ErrnoException).code}`));
    return [];
  }
  const found: SegmentManifest[] = [];
  for (const name of names) {
    try {
      const manifest = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as SegmentManifest;
      if (manifest.format !== SEGMENT_FORMAT || manifest.v !== SEGMENT_VERSION) {
        problems.push(problem(`${name}: not a version ${SEGMENT_VERSION} segment manifest`));
      } else found.push(manifest);
    } catch {
      problems.push(problem(`${name}: not JSON`));
    }
  }
  if (found.length === 0 && problems.length === 0) problems.push(problem(`no segments in ${dir}`));
  return found.sort((a, b) => a.first - b.first);
}

/**
 * Verifies every segment in `dir` without a database: the rows file's digest, the chain from
 * the manifest's `prev_hash` through every row to the closing checkpoint's hash, the closing
 * and every listed checkpoint's signature (against `keys`, or the keys the manifest carries)
 * and row, each segment starting where the previous ended, and every received checkpoint in an
 * archived range. An archive that does not start at genesis is reported by `first`, not failed:
 * older segments may have been destroyed by the retention policy on purpose.
 */
export async function verifyArchive(
  dir: string,
  options: { keys?: JSONWebKeySet; received?: readonly CheckpointStatement[] } = {},
): Promise<ArchiveVerdict> {
  const problems: TrailProblem[] = [];
  const segments = await manifests(dir, problems);
  const received = [...(options.received ?? [])].sort((a, b) => a.seq - b.seq);
  let rows = 0;
  let matched = 0;
  let previous: SegmentManifest | undefined;
  for (const segment of segments) {
    const name = `segment ${segment.first}-${segment.last}`;
    const start = { seq: segment.first - 1, hash: segment.prev_hash };
    if (
      previous !== undefined &&
      (start.seq !== previous.last || start.hash !== previous.last_hash)
    ) {
      problems.push(
        problem(
          `${name} does not continue segment ${previous.first}-${previous.last}: rows ${previous.last + 1}–${segment.first - 1} missing or rewritten`,
        ),
      );
    }
    if (previous === undefined && segment.first === 1 && segment.prev_hash !== GENESIS_HASH) {
      problems.push(problem(`${name} starts at seq 1 but not at the genesis hash`));
    }
    previous = segment;
    const keys = options.keys ?? segment.keys;
    // Every checkpoint listed, the closing one included, against the keys.
    const signed = new Map<number, string>();
    for (const checkpoint of segment.checkpoints ?? []) {
      try {
        const statement = await verifyCheckpointJws(checkpoint.jws, keys);
        signed.set(statement.seq, statement.hash);
      } catch (err) {
        problems.push(
          problem(
            `${name}: checkpoint ${checkpoint.seq}: ${(err as { detail?: string }).detail ?? (err as Error).message}`,
          ),
        );
      }
    }
    if (signed.get(segment.last) !== segment.last_hash) {
      problems.push(problem(`${name}: no valid checkpoint signs its last row ${segment.last}`));
    }
    const rowsFile = segmentFiles(dir, segment.first, segment.last).rows;
    try {
      if ((await fileDigest(rowsFile)) !== segment.sha256) {
        problems.push(problem(`${name}: rows file digest differs from the manifest`));
      }
    } catch (err) {
      problems.push(
        problem(`${name}: cannot read its rows: ${(err as NodeJS.ErrnoException).code}`),
      );
      continue;
    }
    const verifier = new ChainVerifier(start);
    let next = received.findIndex((statement) => statement.seq >= segment.first);
    if (next === -1) next = received.length;
    for await (const line of fileLines(rowsFile)) {
      if (line === '') continue;
      const row = parseSegmentLine(line);
      if (row === undefined || !verifier.add(row)) break;
      rows += 1;
      const checkpointHash = signed.get(row.seq);
      if (checkpointHash !== undefined && checkpointHash !== row.hash) {
        problems.push(problem(`${name}: checkpoint ${row.seq} does not match row ${row.seq}`));
      }
      for (
        ;
        next < received.length && (received[next] as CheckpointStatement).seq <= row.seq;
        next++
      ) {
        const statement = received[next] as CheckpointStatement;
        if (statement.seq === row.seq && statement.hash === row.hash) matched += 1;
        else {
          problems.push({
            code: 'ERR_AUDIT_CHECKPOINT_MISSING',
            message: `checkpoint at seq ${statement.seq} does not match the archive: row ${statement.seq} has another hash`,
          });
        }
      }
    }
    const verdict = verifier.finish({ seq: segment.last, hash: segment.last_hash });
    if (!verdict.ok)
      problems.push(problem(`${name}: broken at seq ${verdict.seq}: ${verdict.problem}`));
  }
  const last = segments.at(-1);
  return {
    segments: segments.length,
    rows,
    first: segments[0]?.first,
    last: last && { seq: last.last, hash: last.last_hash },
    matched,
    problems,
  };
}

/** Every key the manifests in `dir` carry, de-duplicated by kid (none when unreadable). */
export async function archiveKeys(dir: string): Promise<JSONWebKeySet> {
  const byKid = new Map<string, JSONWebKeySet['keys'][number]>();
  for (const manifest of await manifests(dir, [])) {
    for (const key of manifest.keys?.keys ?? []) byKid.set(String(key.kid), key);
  }
  return { keys: [...byKid.values()] };
}

/**
 * Re-reads a segment just written and checks it is the one meant: the manifest on disk equals
 * `manifest`, the rows file has its digest, and its rows chain from `prev_hash` to the closing
 * checkpoint's hash. Throws ERR_AUDIT_ARCHIVE_DIR otherwise (nothing may be deleted then).
 */
export async function verifyWrittenSegment(
  files: { readonly rows: string; readonly manifest: string },
  manifest: SegmentManifest,
): Promise<void> {
  const refuse = (detail: string): never => {
    throw new HallmarkError('ERR_AUDIT_ARCHIVE_DIR', {
      detail: `segment ${manifest.first}-${manifest.last} does not read back: ${detail}`,
    });
  };
  try {
    const onDisk = await readFile(files.manifest, 'utf8');
    if (onDisk !== `${JSON.stringify(manifest, null, 2)}\n`) refuse('its manifest differs');
    if ((await fileDigest(files.rows)) !== manifest.sha256) refuse('its rows digest differs');
    const verifier = new ChainVerifier({ seq: manifest.first - 1, hash: manifest.prev_hash });
    for await (const line of fileLines(files.rows)) {
      if (line === '') continue;
      const row = parseSegmentLine(line);
      if (row === undefined || !verifier.add(row)) break;
    }
    const verdict = verifier.finish({ seq: manifest.last, hash: manifest.last_hash });
    if (!verdict.ok) refuse(`broken at seq ${verdict.seq}: ${verdict.problem}`);
  } catch (err) {
    if (err instanceof HallmarkError) throw err;
    refuse((err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
}
