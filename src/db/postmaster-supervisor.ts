// Supervision of an embedded postmaster: notice it died, restart it with backoff, or give up loudly.
import { systemClock, type Clock } from '../clock/index.js';

/** The postmaster process as the supervisor watches it (a `ChildProcess` fits). */
export interface WatchedProcess {
  readonly pid?: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

/** How the supervisor starts and stops the postmaster (embedded-postgres.ts implements it). */
export interface PostmasterControl {
  /** Starts the postmaster; resolves with it once it accepts connections, rejects if it cannot. */
  start(): Promise<WatchedProcess>;
  /** Stops the postmaster started last if it still runs (fast shutdown); else does nothing. */
  stop(): Promise<void>;
  /**
   * Ends the processes a dead postmaster left behind (its backends hold the shared memory, and
   * PostgreSQL will not start until they are gone); reports how many there were.
   */
  endOrphans?(): Promise<{ found: number; killed: number }>;
}

/** What happened to the supervised postmaster. */
export type SupervisorEvent =
  | { kind: 'exited'; pid?: number; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'orphans-ended'; found: number; killed: number }
  | { kind: 'restart-failed'; attempt: number; reason: string; retryInMs: number }
  | { kind: 'restarted'; attempt: number; pid?: number; downMs: number }
  | { kind: 'gave-up'; attempts: number; reason: string };

/** Tuning of {@link PostmasterSupervisor}; the defaults suit a server. */
export interface SupervisorOptions {
  /**
   * Pause before each restart attempt; one attempt per entry, then the supervisor gives up.
   * The first pause lets the dead postmaster's backends notice and detach from shared memory:
   * PostgreSQL refuses to start while they still hold it ("pre-existing shared memory block
   * is still in use"), which is what keeps two generations of processes off one data dir.
   */
  backoffMs?: readonly number[];
  /** An attempt that is neither ready nor dead after this long is stopped and counted failed. */
  attemptTimeoutMs?: number;
  clock?: Clock;
  onEvent?: (event: SupervisorEvent) => void;
}

/** 250 ms, then doubling: five attempts within about 8 s, then give up. */
export const DEFAULT_RESTART_BACKOFF_MS: readonly number[] = [250, 500, 1_000, 2_000, 4_000];
/** As long as `pg_ctl start` waits by default: crash recovery replays the WAL first. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 60_000;

function hasExited(child: WatchedProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Keeps one postmaster running: when it exits without being asked to (the OOM killer, a
 * `kill -9`), it is started again on the same data directory — PostgreSQL's crash recovery
 * replays the WAL, so every committed transaction is there — with backoff, and after the
 * last failed attempt a `gave-up` event tells the owner to exit so its own supervisor acts.
 */
export class PostmasterSupervisor {
  readonly #control: PostmasterControl;
  readonly #backoffMs: readonly number[];
  readonly #attemptTimeoutMs: number;
  readonly #clock: Clock;
  readonly #onEvent: (event: SupervisorEvent) => void;
  #child: WatchedProcess | undefined;
  #restarting: Promise<void> | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #failure: string | undefined;

  constructor(control: PostmasterControl, options: SupervisorOptions = {}) {
    this.#control = control;
    this.#backoffMs = options.backoffMs ?? DEFAULT_RESTART_BACKOFF_MS;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    this.#clock = options.clock ?? systemClock;
    this.#onEvent = options.onEvent ?? (() => undefined);
  }

  /** Starts the first postmaster; a failure here is a start-up failure, not retried. */
  async start(): Promise<void> {
    this.#watch(await this.#control.start());
  }

  /** Why the supervisor gave up, once it has; `undefined` while it keeps the postmaster up. */
  get failure(): string | undefined {
    return this.#failure;
  }

  /**
   * Stops supervising and the postmaster. The signal goes out synchronously when no restart
   * is under way, so this also works inside a process 'exit' listener.
   */
  stop(): Promise<void> {
    return (this.#stopped ??= this.#stop());
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    if (this.#restarting !== undefined) await this.#restarting;
    await this.#control.stop();
  }

  #watch(child: WatchedProcess): void {
    this.#child = child;
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.#stopping || this.#child !== child) return;
      this.#onEvent({ kind: 'exited', pid: child.pid, code, signal });
      this.#restarting = this.#restart(this.#clock.now()).finally(() => {
        this.#restarting = undefined;
      });
    };
    if (hasExited(child)) onExit(child.exitCode, child.signalCode);
    else child.once('exit', onExit);
  }

  async #restart(downSince: number): Promise<void> {
    let reason = 'no restart attempt was made';
    if (this.#control.endOrphans !== undefined) {
      try {
        const { found, killed } = await this.#control.endOrphans();
        if (found > 0) this.#onEvent({ kind: 'orphans-ended', found, killed });
      } catch (err) {
        // Not fatal: the start attempts below fail while orphans remain, and say so.
        reason = reasonOf(err);
      }
    }
    for (const [index, pauseMs] of this.#backoffMs.entries()) {
      await this.#pause(pauseMs);
      if (this.#stopping) return;
      const attempt = index + 1;
      try {
        const child = await this.#attempt();
        this.#watch(child);
        this.#onEvent({
          kind: 'restarted',
          attempt,
          pid: child.pid,
          downMs: this.#clock.now() - downSince,
        });
        return;
      } catch (err) {
        if (this.#stopping) return;
        reason = reasonOf(err);
        const retryInMs = this.#backoffMs[attempt];
        if (retryInMs !== undefined)
          this.#onEvent({ kind: 'restart-failed', attempt, reason, retryInMs });
      }
    }
    this.#failure = reason;
    this.#onEvent({ kind: 'gave-up', attempts: this.#backoffMs.length, reason });
  }

  /** One start, bounded in time; a postmaster that came up while stopping is stopped again. */
  async #attempt(): Promise<WatchedProcess> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not ready within ${this.#attemptTimeoutMs} ms`)),
        this.#attemptTimeoutMs,
      );
    });
    const started = this.#control.start();
    try {
      const child = await Promise.race([started, timeout]);
      if (this.#stopping) throw new Error('stopping');
      return child;
    } catch (err) {
      // Whatever the attempt left running (ready while stopping, or still recovering at the
      // timeout) must not outlive it.
      await this.#control.stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  #pause(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}
