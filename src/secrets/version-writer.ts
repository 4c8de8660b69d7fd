// Writing secret versions: concurrent writers are committed together, each with its audit row.
import type { AuditEvent, AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import { preparedStatement, type Database, type Queryable, type WriteGate } from '../db/index.js';
import { sealSecretVersion } from './secret-sealing.js';
import type { AuditedWrite, SecretVersionRef } from './secret-store.js';

/** One write waiting for its transaction. Its plaintext stays the caller's (it wipes it). */
export interface QueuedWrite {
  readonly path: string;
  readonly plaintext: Buffer;
  readonly actor: string;
  readonly audit: AuditedWrite | undefined;
}

interface Waiting extends QueuedWrite {
  readonly resolve: (ref: SecretVersionRef) => void;
  readonly reject: (err: unknown) => void;
}

/** Most writes committed by one transaction. */
export const MAX_WRITE_BATCH = 256;

/** Writers answered per turn of the event loop once their batch committed. */
const ANSWER_CHUNK = 16;

/** The write-gate key of the store's transactions: one batch of writes at a time. */
export const SECRET_WRITES_KEY = 'secret-writes';

// A batch's two statements. Heads move in path order, so batches of two replicas that share
// paths take the row locks in the same order and never deadlock. The change notices go with
// the first: PostgreSQL delivers them to every replica at COMMIT, never for a rollback.
const BUMP_HEADS = preparedStatement(
  'secret-bump-heads',
  `WITH head AS (
     INSERT INTO secret_heads (path, latest)
     SELECT path, count FROM unnest($1::text[], $2::integer[]) AS w (path, count) ORDER BY path
     ON CONFLICT (path) DO UPDATE SET latest = secret_heads.latest + EXCLUDED.latest
     RETURNING path, latest
   )
   SELECT path, latest, pg_notify($3, json_build_object('path', path)::text) FROM head`,
);
const INSERT_VERSIONS = preparedStatement(
  'secret-insert-versions',
  `INSERT INTO secret_versions (path, version, wrapped_key, ciphertext, created_at, created_by)
   SELECT path, version, wrapped_key, ciphertext, $5::timestamptz, created_by
     FROM unnest($1::text[], $2::integer[], $3::bytea[], $4::bytea[], $6::text[])
       AS v (path, version, wrapped_key, ciphertext, created_by)
   RETURNING version`,
);

/**
 * Writes versions of secrets. Writes that arrive while a batch is in flight wait and are
 * committed together by the next one — any paths, at most {@link MAX_WRITE_BATCH} — in one
 * transaction of four round trips whatever their number: each head moves by its path's count
 * under its row lock (consecutive versions in arrival order: no gaps, no duplicates), then
 * every version and every audit row goes in with one statement. A batch holds one slot of the
 * write gate; all of it commits, or none of it does (the routes validate paths and values
 * first, so what can fail a batch — the database, the audit log — fails every write alike).
 */
export class VersionWriter {
  readonly #queue: Waiting[] = [];
  #writing = false;

  constructor(
    private readonly deps: {
      readonly db: Database;
      readonly gate: WriteGate;
      readonly master: MasterKey;
      readonly clock: Clock;
      readonly channel: string;
    },
  ) {}

  /** Queues a write; resolves once its version (and audit row) committed. */
  write(write: QueuedWrite): Promise<SecretVersionRef> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...write, resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  /** Writes one version in the caller's open transaction `tx`. */
  async writeIn(tx: Queryable, write: QueuedWrite): Promise<SecretVersionRef> {
    const [ref] = await this.#writeAll(tx, [write]);
    return ref as SecretVersionRef;
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        await this.deps.gate.run(SECRET_WRITES_KEY, async () => {
          // Taken once the slot is ours: writers that came while we waited join this batch.
          const batch = this.#queue.splice(0, MAX_WRITE_BATCH);
          let refs: SecretVersionRef[];
          try {
            refs = await this.deps.db.transaction((tx) => this.#writeAll(tx, batch));
          } catch (err) {
            for (const write of batch) write.reject(err);
            return;
          }
          // Answered a few at a time, letting other requests' I/O in between, so a large
          // batch does not hold the event loop for all of its responses at once.
          for (let i = 0; i < batch.length; i++) {
            if (i > 0 && i % ANSWER_CHUNK === 0) await new Promise((next) => setImmediate(next));
            (batch[i] as Waiting).resolve(refs[i] as SecretVersionRef);
          }
        });
      }
    } finally {
      this.#writing = false;
    }
  }

  async #writeAll(tx: Queryable, writes: readonly QueuedWrite[]): Promise<SecretVersionRef[]> {
    const counts = new Map<string, number>();
    for (const { path } of writes) counts.set(path, (counts.get(path) ?? 0) + 1);
    // A rolled-back batch rolls its head moves back too: a version exists only once committed.
    const heads = await tx.query<{ path: string; latest: number }>(
      BUMP_HEADS([[...counts.keys()], [...counts.values()], this.deps.channel]),
    );
    const next = new Map<string, number>();
    for (const { path, latest } of heads.rows)
      next.set(path, latest - (counts.get(path) as number) + 1);
    const refs = writes.map(({ path }) => {
      const version = next.get(path) as number;
      next.set(path, version + 1);
      return { path, version };
    });
    const sealed = writes.map((w, i) =>
      sealSecretVersion(
        this.deps.master,
        w.path,
        (refs[i] as SecretVersionRef).version,
        w.plaintext,
      ),
    );
    const insert = INSERT_VERSIONS([
      refs.map((r) => r.path),
      refs.map((r) => r.version),
      sealed.map((e) => e.wrappedKey),
      sealed.map((e) => e.ciphertext),
      new Date(this.deps.clock.now()),
      writes.map((w) => w.actor),
    ]);
    // The versions and their audit rows in one statement (rows for another log, if any, next).
    const rows = new Map<AuditLog, AuditEvent[]>();
    writes.forEach(({ audit }, i) => {
      if (audit === undefined) return;
      const events = rows.get(audit.log) ?? [];
      events.push(audit.event((refs[i] as SecretVersionRef).version));
      rows.set(audit.log, events);
    });
    const [withInsert, ...others] = [...rows];
    if (withInsert === undefined) await tx.query(insert);
    else await withInsert[0].stageWith(tx, insert, withInsert[1]);
    for (const [log, events] of others) await log.stage(tx, events);
    return refs;
  }
}
