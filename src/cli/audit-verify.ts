// `hallmark audit verify`: the chain, its signed checkpoints, checkpoints a SIEM received, archives.
import { readFile } from 'node:fs/promises';
import type { JSONWebKeySet } from 'jose';
import {
  archiveKeys,
  readReceivedCheckpoints,
  storedCheckpointKeys,
  verifyArchive,
  verifyAuditTrail,
  verifyCheckpointJws,
  type CheckpointStatement,
  type TrailProblem,
} from '../checkpoint/index.js';
import type { Database } from '../db/index.js';
import { EXIT, UsageError, type CliIo } from './command.js';

/** A refusal's detail (what is wrong), else its message. */
function detailOf(err: unknown): string {
  return (err as { detail?: string }).detail ?? (err as Error).message;
}

/** What to verify besides the database's chain. */
export interface VerifyOptions {
  /** Files of checkpoints as a receiver got them (`-`: standard input). */
  readonly checkpointFiles: readonly string[];
  readonly archiveDir: string | undefined;
  /** A JWKS file to trust instead of the keys stored in the database or the manifests. */
  readonly keysFile: string | undefined;
}

async function readText(file: string, io: CliIo): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  let text = '';
  for await (const chunk of io.stdin) text += chunk.toString();
  return text;
}

async function readKeys(file: string): Promise<JSONWebKeySet> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--keys ${file}: ${(err as NodeJS.ErrnoException).code ?? 'not JSON'}`);
  }
  if (!Array.isArray((parsed as JSONWebKeySet)?.keys)) {
    throw new UsageError(`--keys ${file}: not a JWKS ({"keys": [...]})`);
  }
  return parsed as JSONWebKeySet;
}

/** Reads every checkpoint file and verifies each checkpoint's signature. */
async function receivedStatements(
  options: VerifyOptions,
  keys: JSONWebKeySet,
  io: CliIo,
  problems: TrailProblem[],
): Promise<CheckpointStatement[]> {
  const statements: CheckpointStatement[] = [];
  for (const file of options.checkpointFiles) {
    let text: string;
    try {
      text = await readText(file, io);
    } catch (err) {
      throw new UsageError(`--checkpoints ${file}: ${(err as NodeJS.ErrnoException).code}`);
    }
    const found = readReceivedCheckpoints(text);
    for (const message of found.problems) {
      problems.push({ code: 'ERR_AUDIT_CHECKPOINT_INVALID', message: `${file}: ${message}` });
    }
    for (const checkpoint of found.checkpoints) {
      try {
        statements.push(await verifyCheckpointJws(checkpoint.jws, keys));
      } catch (err) {
        problems.push({
          code: 'ERR_AUDIT_CHECKPOINT_INVALID',
          message: `${file} line ${checkpoint.line}: ${detailOf(err)}`,
        });
      }
    }
    if (found.checkpoints.length === 0 && found.problems.length === 0) {
      problems.push({ code: 'ERR_AUDIT_CHECKPOINT_INVALID', message: `${file}: no checkpoints` });
    }
  }
  return statements;
}

/**
 * Runs every check asked for and prints one line per finding; exit 0 only when the chain is
 * intact and nothing else is wrong. `db` is undefined for an offline archive check.
 */
export async function runVerify(
  db: Database | undefined,
  options: VerifyOptions,
  io: CliIo,
): Promise<number> {
  const problems: TrailProblem[] = [];
  const pinned = options.keysFile === undefined ? undefined : await readKeys(options.keysFile);
  let keys = pinned;
  if (keys === undefined) {
    const fromDb =
      db === undefined
        ? []
        : await storedCheckpointKeys(db).then(
            (set) => set.keys,
            () => [], // before migration 13: no stored keys
          );
    const fromArchive =
      options.archiveDir === undefined ? [] : (await archiveKeys(options.archiveDir)).keys;
    // One entry per kid: jose refuses a set where two keys match a JWS.
    keys = { keys: [...new Map([...fromDb, ...fromArchive].map((k) => [k.kid, k])).values()] };
  }
  const received = await receivedStatements(options, keys, io, problems);
  let ok = true;
  let archiveEnd: { seq: number; hash: string } | undefined;
  let archiveMatched = 0;
  if (options.archiveDir !== undefined) {
    const archive = await verifyArchive(options.archiveDir, { keys: pinned, received });
    problems.push(...archive.problems);
    archiveEnd = archive.last;
    archiveMatched = archive.matched;
    if (archive.segments > 0) {
      io.out(
        `archive: ${archive.segments} segments, ${archive.rows} rows, seq ${archive.first}–${archive.last?.seq}${archive.first === 1 ? '' : ` (starts after seq ${(archive.first ?? 1) - 1}: earlier segments not given)`}`,
      );
    }
  }
  if (db !== undefined) {
    const trail = await verifyAuditTrail(db, { keys: pinned, received });
    const { chain } = trail;
    problems.push(...trail.problems);
    const staged = chain.staged === 0 ? '' : `; ${chain.staged} staged rows not yet chained`;
    const from = chain.base === undefined ? '' : `, retained after archived seq ${chain.base.seq}`;
    if (chain.ok) {
      io.out(
        `audit chain intact: ${chain.rows} rows${from}, head seq ${chain.head.seq} hash ${chain.head.hash}${staged}`,
      );
    } else {
      ok = false;
      io.err(
        `audit chain broken at seq ${chain.seq}: ${chain.problem} (${chain.rows} rows verified before it)`,
      );
    }
    io.out(`checkpoints: ${trail.checkpoints} stored verified`);
    if (options.archiveDir !== undefined) {
      const base = chain.base;
      if (base === undefined && archiveEnd !== undefined) {
        problems.push({
          code: 'ERR_AUDIT_ARCHIVE_INVALID',
          message: `the archive ends at seq ${archiveEnd.seq} but the database has no archived prefix`,
        });
      } else if (
        base !== undefined &&
        (archiveEnd?.seq !== base.seq || archiveEnd.hash !== base.hash)
      ) {
        problems.push({
          code: 'ERR_AUDIT_ARCHIVE_INVALID',
          message: `the database continues after seq ${base.seq}, the archive ends at ${archiveEnd?.seq ?? 'nothing'}: not continuous`,
        });
      }
    } else if (trail.archived.length > 0) {
      io.out(
        `${trail.archived.length} received checkpoints lie in the archived prefix: give --archive DIR to check them`,
      );
    }
    if (received.length > 0) {
      io.out(
        `received checkpoints: ${received.length}, ${trail.matched + archiveMatched} found in the chain`,
      );
    }
  } else if (received.length > 0) {
    io.out(`received checkpoints: ${received.length}, ${archiveMatched} found in the archive`);
  }
  for (const found of problems) io.err(`${found.code}: ${found.message}`);
  return ok && problems.length === 0 ? EXIT.ok : EXIT.failure;
}
