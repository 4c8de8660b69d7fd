// A small pool of logged-in sessions on one token that reconnects after a reset and fails closed.
import { systemClock, type Clock } from '../clock/index.js';
import { HsmUnavailableError } from './hsm-error.js';
import { loadPkcs11Api, type Handle, type Pkcs11Api } from './pkcs11-api.js';
import { USER_SESSION_STATES } from './pkcs11-constants.js';
import { failureKind, returnValueName } from './pkcs11-failure.js';
import {
  ConnectFailure,
  closeSessions,
  connectToken,
  finalize,
  type TokenConnection,
} from './token-connection.js';
import type { TokenPin } from './token-pin.js';

/** How to reach the token. */
export interface TokenSessionPoolOptions {
  /** Path of the PKCS#11 library (`HALLMARK_PKCS11_MODULE`). */
  readonly modulePath: string;
  /** CKA token label (`HALLMARK_PKCS11_TOKEN`). */
  readonly tokenLabel: string;
  readonly pin: TokenPin;
  /** Sessions kept open; more than libuv's 4 threads would only queue there. Default 4. */
  readonly sessions?: number;
  readonly clock?: Clock;
  /** After a failed reconnect, how long operations fail fast before one tries again. Default 1 s. */
  readonly retryIntervalMs?: number;
}

/** What `/readyz` reports for the token. */
export interface TokenReadiness {
  readonly ready: boolean;
  readonly reason?: string;
}

/**
 * An operation on one session. `generation` changes at every reconnect: object handles found
 * under an older generation are invalid (handles do not survive C_Finalize).
 */
export type SessionOperation<T> = (
  api: Pkcs11Api,
  session: Handle,
  generation: number,
) => Promise<T> | T;

/** Thrown by an operation that found no object for a key; the pool checks the token first. */
export class KeyNotFound extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'KeyNotFound';
  }
}

interface Lease {
  readonly session: Handle;
  readonly generation: number;
}

interface Failure {
  readonly detail: string;
  readonly pinRejected: boolean;
}

const describe = (err: unknown): string => returnValueName(err) ?? (err as Error).message;

/**
 * One process's sessions on the token. Each operation holds a session alone (PKCS#11 sessions
 * run one operation at a time), so up to `sessions` signatures run in parallel on libuv's
 * threads. When the token, a session or the login is lost, the pool finalises the library and
 * connects again (a fresh C_Initialize is what makes SoftHSM2 and most libraries rescan their
 * slots), then retries the operation once. While reconnecting fails, operations fail fast with
 * {@link HsmUnavailableError} and one reconnect is tried per retry interval, by an operation or
 * by {@link readiness}. One pool per process and module: it owns C_Initialize and C_Finalize.
 */
export class TokenSessionPool {
  readonly #api: Pkcs11Api;
  readonly #options: TokenSessionPoolOptions;
  readonly #clock: Clock;
  readonly #size: number;
  #connection: TokenConnection;
  #generation = 0;
  #free: Handle[];
  #leased = 0;
  #waiters: (() => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #reconnecting: Promise<void> | undefined;
  #failure: Failure | undefined;
  #nextAttemptAt = 0;
  #closed = false;

  private constructor(
    api: Pkcs11Api,
    options: TokenSessionPoolOptions,
    connection: TokenConnection,
  ) {
    this.#api = api;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#size = options.sessions ?? 4;
    this.#connection = connection;
    this.#free = [...connection.sessions];
  }

  /**
   * Loads the module, finds the token, opens the sessions and logs in.
   *
   * @throws ConfigError naming `HALLMARK_PKCS11_MODULE`, `HALLMARK_PKCS11_TOKEN` or
   *   `HALLMARK_PKCS11_PIN_FILE` (a wrong PIN): the server stops with exit 2.
   */
  static async open(options: TokenSessionPoolOptions): Promise<TokenSessionPool> {
    const size = options.sessions ?? 4;
    if (!Number.isInteger(size) || size < 1) throw new RangeError('sessions must be at least 1');
    const api = await loadPkcs11Api(options.modulePath);
    try {
      return new TokenSessionPool(
        api,
        options,
        connectToken(api, options.tokenLabel, options.pin, size),
      );
    } catch (err) {
      finalize(api);
      throw err instanceof ConnectFailure ? err.toConfigError() : err;
    }
  }

  /** The token's label, for messages. */
  get tokenLabel(): string {
    return this.#options.tokenLabel;
  }

  /** Whether operations can run now, and if not why (for logs and metrics). */
  status(): { readonly available: boolean; readonly reason: string | undefined } {
    if (this.#closed) return { available: false, reason: 'closed' };
    return { available: this.#failure === undefined, reason: this.#failure?.detail };
  }

  /**
   * Runs `operation` on a session of its own. A lost connection is repaired and the operation
   * retried once; an operation's {@link KeyNotFound} becomes `key-missing` when the token and
   * login are fine, and a reconnect otherwise.
   *
   * @throws HsmUnavailableError when the token cannot be reached or the key is absent; other
   *   errors of the operation as they are.
   */
  async run<T>(operation: SessionOperation<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const lease = await this.#acquire();
      let failed: { error: unknown } | undefined;
      let value: T | undefined;
      try {
        value = await operation(this.#api, lease.session, lease.generation);
      } catch (error) {
        failed = { error };
      }
      if (failed === undefined) {
        this.#release(lease);
        return value as T;
      }
      const broken = this.#brokenConnection(failed.error, lease);
      this.#release(lease);
      if (broken === undefined) {
        if (failed.error instanceof KeyNotFound) {
          throw new HsmUnavailableError('key-missing', failed.error.detail);
        }
        throw failed.error;
      }
      await this.#reconnect(lease.generation, broken);
      if (attempt > 0) throw this.#unavailable(broken, failed.error);
    }
  }

  /**
   * Readiness of the token: a cheap probe (C_GetTokenInfo, and the state of an idle session)
   * while it is up, a reconnect attempt (at most once per retry interval) while it is down.
   */
  async readiness(): Promise<TokenReadiness> {
    if (this.#closed) return { ready: false, reason: 'HSM session pool closed' };
    if (this.#reconnecting) await this.#reconnecting;
    if (this.#failure === undefined) {
      const broken = this.#probe(this.#free.at(-1));
      if (broken !== undefined) await this.#reconnect(this.#generation, broken);
    } else if (this.#reconnectDue()) {
      await this.#reconnect(this.#generation, this.#failure.detail);
    }
    const failure = this.#failure;
    return failure === undefined
      ? { ready: true }
      : { ready: false, reason: `HSM ${failure.detail}` };
  }

  /** Waits for running operations, closes the sessions and finalises the library. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeAll();
    if (this.#reconnecting) await this.#reconnecting;
    await this.#drain();
    closeSessions(this.#api, this.#connection.sessions);
    finalize(this.#api);
  }

  async #acquire(): Promise<Lease> {
    for (;;) {
      if (this.#closed) throw new HsmUnavailableError('closed', 'the session pool is closed');
      if (this.#reconnecting) {
        await this.#reconnecting;
        continue;
      }
      if (this.#failure !== undefined) {
        if (!this.#reconnectDue()) throw this.#unavailable(this.#failure.detail);
        await this.#reconnect(this.#generation, this.#failure.detail);
        if (this.#failure !== undefined) throw this.#unavailable(this.#failure.detail);
        continue;
      }
      const session = this.#free.pop();
      if (session !== undefined) {
        this.#leased++;
        return { session, generation: this.#generation };
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #release(lease: Lease): void {
    this.#leased--;
    // A session of an older generation died with the connection it belonged to.
    if (lease.generation === this.#generation && this.#failure === undefined && !this.#closed) {
      this.#free.push(lease.session);
    }
    this.#waiters.shift()?.();
    if (this.#leased === 0) for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }

  /** Why the connection is broken after `error`, or `undefined` when it is fine. */
  #brokenConnection(error: unknown, lease: Lease): string | undefined {
    if (lease.generation !== this.#generation) return 'reconnected during the operation';
    const kind = failureKind(error);
    if (kind === 'connection') return describe(error);
    // A vanished object may be a vanished token or login: SoftHSM2 answers
    // CKR_OBJECT_HANDLE_INVALID, or finds nothing, once its token directory is gone.
    if (kind === 'object' || error instanceof KeyNotFound) return this.#probe(lease.session);
    return undefined;
  }

  /** Checks the token and, if given, that a session is still open and logged in. */
  #probe(session: Handle | undefined): string | undefined {
    try {
      this.#api.C_GetTokenInfo(this.#connection.slot);
    } catch (err) {
      return `token not answering (${describe(err)})`;
    }
    if (session === undefined) return undefined;
    try {
      const { state } = this.#api.C_GetSessionInfo(session);
      return USER_SESSION_STATES.includes(state) ? undefined : 'user no longer logged in';
    } catch (err) {
      return `session lost (${describe(err)})`;
    }
  }

  #reconnectDue(): boolean {
    return this.#failure?.pinRejected !== true && this.#clock.now() >= this.#nextAttemptAt;
  }

  /** One reconnect at a time; a caller whose generation is already replaced has nothing to do. */
  async #reconnect(failedGeneration: number, detail: string): Promise<void> {
    if (this.#reconnecting) return this.#reconnecting;
    if (failedGeneration !== this.#generation || this.#closed) return;
    this.#reconnecting = this.#connectAgain(detail).finally(() => {
      this.#reconnecting = undefined;
      this.#wakeAll();
    });
    return this.#reconnecting;
  }

  async #connectAgain(detail: string): Promise<void> {
    this.#failure = { detail, pinRejected: false };
    this.#free = [];
    await this.#drain();
    closeSessions(this.#api, this.#connection.sessions);
    finalize(this.#api);
    this.#generation++;
    try {
      const { tokenLabel, pin } = this.#options;
      this.#connection = connectToken(this.#api, tokenLabel, pin, this.#size);
      this.#free = [...this.#connection.sessions];
      this.#failure = undefined;
    } catch (err) {
      const failure =
        err instanceof ConnectFailure
          ? { detail: err.detail, pinRejected: err.pinRejected }
          : { detail: describe(err), pinRejected: false };
      this.#connection = { slot: this.#connection.slot, sessions: [] };
      this.#failure = failure;
      this.#nextAttemptAt = this.#clock.now() + (this.#options.retryIntervalMs ?? 1_000);
    }
  }

  async #drain(): Promise<void> {
    while (this.#leased > 0) await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }

  #wakeAll(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  #unavailable(detail: string, cause?: unknown): HsmUnavailableError {
    const reason = this.#failure?.pinRejected ? 'pin-rejected' : 'token-unavailable';
    return new HsmUnavailableError(reason, `token "${this.#options.tokenLabel}": ${detail}`, cause);
  }
}
