// Connecting to one token: initialise the library, find the slot by label, open sessions, log in.
import { ConfigError } from '../config/index.js';
import type { Handle, Pkcs11Api } from './pkcs11-api.js';
import { CKF, CKR, CKU_USER } from './pkcs11-constants.js';
import { failureKind, hasReturnValue, returnValueName } from './pkcs11-failure.js';
import type { TokenPin } from './token-pin.js';

/** What a connection holds: the token's slot and the pool's open, logged-in sessions. */
export interface TokenConnection {
  readonly slot: Handle;
  readonly sessions: readonly Handle[];
}

/** The variable an operator must fix when connecting fails. */
export type ConnectVariable =
  'HALLMARK_PKCS11_MODULE' | 'HALLMARK_PKCS11_TOKEN' | 'HALLMARK_PKCS11_PIN_FILE';

/** Connecting failed; `variable` names the setting to look at, `detail` says why. */
export class ConnectFailure extends Error {
  constructor(
    readonly variable: ConnectVariable,
    readonly detail: string,
    /** The token refused the PIN: never retried automatically. */
    readonly pinRejected = false,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'ConnectFailure';
  }

  /** The start-up form: exit 2 naming the variable. */
  toConfigError(): ConfigError {
    return new ConfigError(this.variable, this.detail);
  }
}

const describe = (err: unknown): string => returnValueName(err) ?? (err as Error).message;

/** Initialises the library for use from several threads (pkcs11js signs on libuv's pool). */
function initialize(api: Pkcs11Api): void {
  try {
    // PKCS #11 v2.40 §5.4: without CKF_OS_LOCKING_OK the library may assume one thread.
    api.C_Initialize({ flags: CKF.OS_LOCKING_OK });
  } catch (err) {
    if (hasReturnValue(err, CKR.CRYPTOKI_ALREADY_INITIALIZED)) return;
    throw new ConnectFailure('HALLMARK_PKCS11_MODULE', `C_Initialize failed: ${describe(err)}`);
  }
}

/** CK_TOKEN_INFO.label is 32 bytes padded with blanks (PKCS #11 v2.40 §3.2). */
const labelOf = (raw: string): string => raw.replace(/[\s\0]+$/, '');

function findSlot(api: Pkcs11Api, label: string): Handle {
  let slots: Handle[];
  try {
    slots = api.C_GetSlotList(true);
  } catch (err) {
    throw new ConnectFailure('HALLMARK_PKCS11_MODULE', `C_GetSlotList failed: ${describe(err)}`);
  }
  const seen: string[] = [];
  for (const slot of slots) {
    let info;
    try {
      info = api.C_GetTokenInfo(slot);
    } catch {
      continue; // a slot whose token vanished between the two calls
    }
    const name = labelOf(info.label);
    if (name === label) {
      if ((info.flags & CKF.USER_PIN_LOCKED) !== 0) {
        throw new ConnectFailure(
          'HALLMARK_PKCS11_PIN_FILE',
          `the user PIN of "${label}" is locked`,
          true,
        );
      }
      return slot;
    }
    if (name !== '') seen.push(`"${name}"`);
  }
  throw new ConnectFailure(
    'HALLMARK_PKCS11_TOKEN',
    `no token labelled "${label}" is present (present: ${seen.join(', ') || 'none'})`,
  );
}

function login(api: Pkcs11Api, session: Handle, pin: TokenPin, label: string): void {
  try {
    api.C_Login(session, CKU_USER, pin.reveal());
  } catch (err) {
    // Login state is per application and token, not per session (PKCS #11 v2.40 §5.6).
    if (hasReturnValue(err, CKR.USER_ALREADY_LOGGED_IN)) return;
    if (failureKind(err) === 'pin') {
      throw new ConnectFailure(
        'HALLMARK_PKCS11_PIN_FILE',
        `token "${label}" refused the PIN (${describe(err)})`,
        true,
      );
    }
    throw new ConnectFailure('HALLMARK_PKCS11_TOKEN', `C_Login failed: ${describe(err)}`);
  }
}

/**
 * Initialises the library (if needed), finds the token labelled `label`, opens `count`
 * read-write sessions and logs the user in. Sessions opened before a failure are closed.
 *
 * @throws ConnectFailure naming the variable to fix.
 */
export function connectToken(
  api: Pkcs11Api,
  label: string,
  pin: TokenPin,
  count: number,
): TokenConnection {
  initialize(api);
  const slot = findSlot(api, label);
  const sessions: Handle[] = [];
  try {
    for (let i = 0; i < count; i++) {
      sessions.push(api.C_OpenSession(slot, CKF.SERIAL_SESSION | CKF.RW_SESSION));
    }
    login(api, sessions[0] as Handle, pin, label);
  } catch (err) {
    closeSessions(api, sessions);
    if (err instanceof ConnectFailure) throw err;
    throw new ConnectFailure('HALLMARK_PKCS11_TOKEN', `C_OpenSession failed: ${describe(err)}`);
  }
  return { slot, sessions };
}

/** Closes sessions, ignoring failures (they may already be gone with the token). */
export function closeSessions(api: Pkcs11Api, sessions: readonly Handle[]): void {
  for (const session of sessions) {
    try {
      api.C_CloseSession(session);
    } catch {
      // already closed
    }
  }
}

/** Finalises the library, ignoring failures, so the next C_Initialize rescans the slots. */
export function finalize(api: Pkcs11Api): void {
  try {
    api.C_Finalize();
  } catch {
    // not initialised
  }
}
