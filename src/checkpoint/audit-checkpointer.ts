// Signs the chain head on a cadence: one replica per round (advisory lock), off every request's path.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock/index.js';
import { ADVISORY_LOCKS, type Database } from '../db/index.js';
import { checkpointDue, type CheckpointCadence } from './checkpoint-cadence.js';
import type { CheckpointKeyring } from './checkpoint-keyring.js';
import {
  signCheckpoint,
  CHECKPOINT_VERSION,
  type SignedCheckpoint,
} from './checkpoint-statement.js';
import { insertCheckpoint, latestCheckpoint, readHead } from './checkpoint-store.js';

/** The channel migration 12's trigger uses: a new checkpoint wakes the sinks like a new row. */
const SINKS_CHANNEL = 'hallmark_audit_appended';

/** How often each replica looks (the row bound is noticed within this). */
export const DEFAULT_CHECKPOINT_TICK_MS = 1_000;

/** Minimal logger (pino-compatible). */
export interface CheckpointLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the checkpointer needs. */
export interface AuditCheckpointerDeps {
  readonly db: Database;
  readonly keyring: CheckpointKeyring;
  readonly clock: Clock;
  readonly log: CheckpointLogger;
  readonly metrics: Registry;
  readonly trustDomain: string;
  readonly cadence: CheckpointCadence;
}

/** The checkpoint metrics on one registry. */
class CheckpointMetrics {
  readonly seq: Gauge;
  readonly time: Gauge;
  readonly errors: Counter;

  constructor(registry: Registry) {
    this.seq = new Gauge({
      name: 'hallmark_audit_checkpoint_seq',
      help: 'Seq of the newest signed audit checkpoint (0: none yet)',
      registers: [registry],
    });
    this.time = new Gauge({
      name: 'hallmark_audit_checkpoint_timestamp_seconds',
      help: 'When the newest audit checkpoint was signed (Unix seconds; 0: none yet)',
      registers: [registry],
    });
    this.errors = new Counter({
      name: 'hallmark_audit_checkpoint_errors_total',
      help: 'Checkpoint rounds that failed, or found the chain head behind the last checkpoint',
      registers: [registry],
    });
  }
}

/**
 * Every tick, each replica tries the checkpoint lock inside a short transaction; the one that
 * gets it reads the head and the last checkpoint and, when {@link checkpointDue} says so, signs
 * `{v, trust_domain, seq, hash, time, kid}` and stores it, notifying the sinks. The next holder
 * sees the stored checkpoint, so however many replicas and worker processes run, each head is
 * signed once. A checkpoint is not an audit row: writing one would move the head it signs.
 */
export class AuditCheckpointer {
  readonly #deps: AuditCheckpointerDeps;
  readonly #metrics: CheckpointMetrics;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #last: SignedCheckpoint | undefined;
  #behindLogged = false;

  constructor(deps: AuditCheckpointerDeps) {
    this.#deps = deps;
    this.#metrics = new CheckpointMetrics(deps.metrics);
  }

  /** Starts the ticker (unref'd: it never keeps the process alive). */
  start(tickMs = DEFAULT_CHECKPOINT_TICK_MS): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.#tick(), tickMs);
    this.#timer.unref();
  }

  /** Stops the ticker and waits for a round in flight. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running.catch(() => undefined);
  }

  /** The newest checkpoint this replica has seen (signed or read), for "checkpoints are recent". */
  latest(): SignedCheckpoint | undefined {
    return this.#last;
  }

  /**
   * One round. Resolves with the checkpoint signed here, or undefined (another replica holds
   * the lock, nothing is due). Rejects when the database or the signer failed.
   */
  round(): Promise<SignedCheckpoint | undefined> {
    const next = this.#running.catch(() => undefined).then(() => this.#round());
    this.#running = next;
    return next;
  }

  async #tick(): Promise<void> {
    try {
      await this.round();
    } catch (err) {
      this.#metrics.errors.inc();
      this.#deps.log.warn({ err: (err as Error).message }, 'audit checkpoint failed; retrying');
    }
  }

  async #round(): Promise<SignedCheckpoint | undefined> {
    const { db, clock, cadence, keyring, trustDomain } = this.#deps;
    const signed = await db.transaction(async (tx) => {
      const lock = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        ADVISORY_LOCKS.auditCheckpoint,
      ]);
      if (lock.rows[0]?.ok !== true) {
        // Another replica signs this round; the metrics still follow the stored checkpoints.
        this.#seen(await latestCheckpoint(tx));
        return undefined;
      }
      const head = await readHead(tx);
      const last = await latestCheckpoint(tx);
      this.#seen(last);
      const now = clock.now();
      const due = checkpointDue(
        head,
        last && { seq: last.seq, time: Date.parse(last.time) },
        now,
        cadence,
      );
      if (due.kind === 'behind') {
        this.#behind(head?.seq ?? 0, last as SignedCheckpoint);
        return undefined;
      }
      this.#behindLogged = false;
      if (due.kind === 'wait' || head === undefined) return undefined;
      const key = keyring.signingKey();
      const checkpoint = await signCheckpoint(key.signer, {
        v: CHECKPOINT_VERSION,
        trust_domain: trustDomain,
        seq: head.seq,
        hash: head.hash,
        time: new Date(now).toISOString(),
        kid: key.kid,
      });
      await insertCheckpoint(tx, checkpoint);
      await tx.query(`NOTIFY ${SINKS_CHANNEL}`);
      return checkpoint;
    });
    if (signed !== undefined) this.#seen(signed);
    return signed;
  }

  #seen(checkpoint: SignedCheckpoint | undefined): void {
    if (checkpoint === undefined || (this.#last && this.#last.seq >= checkpoint.seq)) return;
    this.#last = checkpoint;
    this.#metrics.seq.set(checkpoint.seq);
    this.#metrics.time.set(Date.parse(checkpoint.time) / 1000);
  }

  /** The head went below a signed checkpoint: rows were deleted. Alarm once, sign nothing. */
  #behind(headSeq: number, last: SignedCheckpoint): void {
    this.#metrics.errors.inc();
    if (this.#behindLogged) return;
    this.#behindLogged = true;
    this.#deps.log.error(
      { head: headSeq, checkpoint: last.seq },
      'audit chain head is behind the last signed checkpoint: rows were deleted; run hallmark audit verify',
    );
  }
}
