// An archived segment on disk: its rows as JSON lines and a manifest with the checkpoint closing them.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { JSONWebKeySet } from 'jose';
import type { AuditRecord } from '../audit/index.js';
import type { SignedCheckpoint } from './checkpoint-statement.js';

/** Format name and version of a manifest; a verifier refuses others. */
export const SEGMENT_FORMAT = 'hallmark-audit-segment';
export const SEGMENT_VERSION = 1;

/** The manifest beside a segment's rows (`audit-<first>-<last>.manifest.json`). */
export interface SegmentManifest {
  readonly format: typeof SEGMENT_FORMAT;
  readonly v: typeof SEGMENT_VERSION;
  readonly trust_domain: string;
  /** First and last seq of the rows, and how many (last - first + 1). */
  readonly first: number;
  readonly last: number;
  readonly rows: number;
  /** `prev_hash` of the first row: the previous segment's last hash, or genesis. */
  readonly prev_hash: string;
  /** Hash of the last row, which {@link checkpoint} signs. */
  readonly last_hash: string;
  /** SHA-256 of the rows file's bytes, hex (also in the `audit.archived` row). */
  readonly sha256: string;
  /** The checkpoint that closes the segment: seq `last`, hash `last_hash`. */
  readonly checkpoint: SignedCheckpoint;
  /** Every checkpoint of the segment's range, the closing one last. */
  readonly checkpoints: readonly SignedCheckpoint[];
  /** The checkpoint keys known when it was written (verify offline; or pin your own). */
  readonly keys: JSONWebKeySet;
  readonly archived_at: string;
}

/** File names of the segment `first`–`last`: zero-padded so they sort in chain order. */
export function segmentFiles(
  dir: string,
  first: number,
  last: number,
): { rows: string; manifest: string } {
  const base = `audit-${String(first).padStart(20, '0')}-${String(last).padStart(20, '0')}`;
  return {
    rows: path.join(dir, `${base}.jsonl`),
    manifest: path.join(dir, `${base}.manifest.json`),
  };
}

/** A row as a line of the segment: the shape `GET /v1/audit` returns. */
export function segmentLine(record: AuditRecord): string {
  return `${JSON.stringify({
    seq: record.seq,
    time: record.time,
    actor: record.actor,
    action: record.action,
    target: record.target,
    outcome: record.outcome,
    reason: record.reason,
    request_id: record.requestId,
    prev_hash: record.prevHash,
    hash: record.hash,
  })}\n`;
}

/** Parses a segment line back; undefined when it is not a row. */
export function parseSegmentLine(line: string): AuditRecord | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const text = (key: string): string | undefined =>
    typeof value[key] === 'string' ? (value[key] as string) : undefined;
  const seq = value['seq'];
  const fields = [
    'time',
    'actor',
    'action',
    'target',
    'outcome',
    'reason',
    'request_id',
    'prev_hash',
    'hash',
  ];
  if (!Number.isSafeInteger(seq) || fields.some((key) => text(key) === undefined)) return undefined;
  return {
    seq: seq as number,
    time: text('time') as string,
    actor: text('actor') as string,
    action: text('action') as string,
    target: text('target') as string,
    outcome: text('outcome') as string,
    reason: text('reason') as string,
    requestId: text('request_id') as string,
    prevHash: text('prev_hash') as string,
    hash: text('hash') as string,
  };
}

/**
 * Writes a segment durably: rows and manifest go to temporary files, are fsynced, then renamed
 * into place (and the directory fsynced), so a crash leaves either no segment or a whole one.
 * `rows` yields the rows in order; the digest is computed as they are written.
 */
export async function writeSegment(
  files: { rows: string; manifest: string },
  rows: AsyncIterable<string>,
  manifestOf: (sha256: string) => SegmentManifest,
): Promise<SegmentManifest> {
  const rowsTmp = `${files.rows}.tmp`;
  const manifestTmp = `${files.manifest}.tmp`;
  try {
    const digest = createHash('sha256');
    const handle = await open(rowsTmp, 'w', 0o640);
    try {
      for await (const line of rows) {
        digest.update(line);
        await handle.write(line);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    const manifest = manifestOf(digest.digest('hex'));
    const manifestHandle = await open(manifestTmp, 'w', 0o640);
    try {
      await manifestHandle.write(`${JSON.stringify(manifest, null, 2)}\n`);
      await manifestHandle.sync();
    } finally {
      await manifestHandle.close();
    }
    await rename(rowsTmp, files.rows);
    await rename(manifestTmp, files.manifest);
    const dir = await open(path.dirname(files.rows), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return manifest;
  } catch (err) {
    await rm(rowsTmp, { force: true });
    await rm(manifestTmp, { force: true });
    throw err;
  }
}

/** Removes a segment's files (its deletion from the database did not commit). */
export async function removeSegment(files: { rows: string; manifest: string }): Promise<void> {
  await rm(files.rows, { force: true });
  await rm(files.manifest, { force: true });
}

/** SHA-256 of a file's bytes, hex, streamed. */
export async function fileDigest(file: string): Promise<string> {
  const digest = createHash('sha256');
  for await (const chunk of createReadStream(file)) digest.update(chunk as Buffer);
  return digest.digest('hex');
}

/** The lines of a file, streamed. */
export function fileLines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
}
