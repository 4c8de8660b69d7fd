// Writing secret versions: writers of one path are batched into one transaction, with their rows.
import type { AuditEvent, AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import { preparedStatement, type Database, type Queryable, type WriteGate } from '../db/index.js';
import { sealSecretVersion } from './secret-sealing.js';
import type { AuditedWrite, SecretVersionRef } from './secret-store.js';

/** One write waiting for its transaction. Its plaintext stays the caller's (it wipes it). */
export interface QueuedWrite {
  readonly plaintext: Buffer;
  readonly actor: string;
  readonly audit: AuditedWrite | undefined;
}

interface Waiting extends QueuedWrite {
  readonly resolve: (ref: SecretVersionRef) => void;
  readonly reject: (err: unknown) => void;
}

/** Most writes of one path committed by one transaction. */
export const MAX_WRITE_BATCH = 100;

// A batch's two statements. The change notice is sent with the first: PostgreSQL delivers it
// to every replica at COMMIT, and never for a rolled-back write.
const BUMP_HEAD = preparedStatement(
  'secret-bump-head',
  `WITH head AS (
     INSERT INTO secret_heads (path, latest) VALUES ($1, $2::integer)
     ON CONFLICT (path) DO UPDATE SET latest = secret_heads.latest + $2::integer
     RETURNING latest
   )
   SELECT latest, pg_notify($3, $4) FROM head`,
);
const INSERT_VERSIONS = preparedStatement(
  'secret-insert-versions',
  `INSERT INTO secret_versions (path, version, wrapped_key, ciphertext, created_at, created_by)
   SELECT $1::text, version, wrapped_key, ciphertext, $5::timestamptz, created_by
     FROM unnest($2::integer[], $3::bytea[], $4::bytea[], $6::text[])
       AS v (version, wrapped_key, ciphertext, created_by)
   RETURNING version`,
);

/**
 * Writes versions of secrets. Writers of one path that arrive while an earlier write of it is
 * waiting for or holding its turn at the write gate are committed together, by one transaction
 * of four round trips whatever their number: the head moves by their count under its row lock
 * (consecutive versions in arrival order, no gaps, no duplicates), then every version and
 * every audit row goes in with one statement. All of a batch commits, or none of it does.
 */
export class VersionWriter {
  /** Per path, the batch that has not started yet (later writers join it). */
  readonly #open = new Map<string, Waiting[]>();

  constructor(
    private readonly deps: {
      readonly db: Database;
      readonly gate: WriteGate;
      readonly master: MasterKey;
      readonly clock: Clock;
      readonly channel: string;
    },
  ) {}

  /** Queues a write of `path`; resolves once its version (and audit row) committed. */
  write(path: string, write: QueuedWrite): Promise<SecretVersionRef> {
    return new Promise((resolve, reject) => {
      let batch = this.#open.get(path);
      if (batch === undefined) {
        const opened: Waiting[] = [];
        batch = opened;
        this.#open.set(path, opened);
        void this.deps.gate.run(`secret:${path}`, () => this.#commit(path, opened));
      }
      batch.push({ ...write, resolve, reject });
      if (batch.length >= MAX_WRITE_BATCH) this.#open.delete(path);
    });
  }

  /** Writes one version in the caller's open transaction `tx`. */
  async writeIn(tx: Queryable, path: string, write: QueuedWrite): Promise<SecretVersionRef> {
    const [ref] = await this.#writeAll(tx, path, [write]);
    return ref as SecretVersionRef;
  }

  async #commit(path: string, batch: Waiting[]): Promise<void> {
    // From here on, writers of this path form the next batch, which waits for this one.
    if (this.#open.get(path) === batch) this.#open.delete(path);
    try {
      const refs = await this.deps.db.transaction((tx) => this.#writeAll(tx, path, batch));
      batch.forEach((write, i) => write.resolve(refs[i] as SecretVersionRef));
    } catch (err) {
      for (const write of batch) write.reject(err);
    }
  }

  async #writeAll(
    tx: Queryable,
    path: string,
    writes: readonly QueuedWrite[],
  ): Promise<SecretVersionRef[]> {
    // The upsert takes the head row's lock until COMMIT, so a concurrent writer of the same
    // path on another replica waits here and then reads the moved number. A rolled-back batch
    // rolls its move back too: a version number exists only once committed.
    const head = await tx.query<{ latest: number }>(
      BUMP_HEAD([path, writes.length, this.deps.channel, JSON.stringify({ path })]),
    );
    const first = (head.rows[0] as { latest: number }).latest - writes.length + 1;
    const versions = writes.map((_, i) => first + i);
    const sealed = writes.map((w, i) =>
      sealSecretVersion(this.deps.master, path, first + i, w.plaintext),
    );
    const insert = INSERT_VERSIONS([
      path,
      versions,
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
      events.push(audit.event(first + i));
      rows.set(audit.log, events);
    });
    const [withInsert, ...others] = [...rows];
    if (withInsert === undefined) await tx.query(insert);
    else await withInsert[0].stageWith(tx, insert, withInsert[1]);
    for (const [log, events] of others) await log.stage(tx, events);
    return versions.map((version) => ({ path, version }));
  }
}
