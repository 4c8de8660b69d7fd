// What a PKCS#11 return value means for Hallmark: retry on fresh sessions, or report as it is.
import { CKR } from './pkcs11-constants.js';

/**
 * How a failed call is handled:
 * - `connection`: the session, the login or the token itself is gone (token removed or reset,
 *   HSM restarted, sessions closed); reconnect, then retry once.
 * - `object`: the object handle no longer names an object (handles die with their login
 *   session, or the key was destroyed); look the key up again.
 * - `pin`: the token refuses the PIN; retrying could lock the user out.
 * - `other`: anything else (bad mechanism, data length...), reported as it is.
 */
export type FailureKind = 'connection' | 'object' | 'pin' | 'other';

const CONNECTION: ReadonlySet<number> = new Set([
  CKR.SLOT_ID_INVALID,
  CKR.GENERAL_ERROR,
  CKR.FUNCTION_FAILED,
  CKR.DEVICE_ERROR,
  CKR.DEVICE_MEMORY,
  CKR.DEVICE_REMOVED,
  CKR.SESSION_CLOSED,
  CKR.SESSION_HANDLE_INVALID,
  CKR.TOKEN_NOT_PRESENT,
  CKR.TOKEN_NOT_RECOGNIZED,
  CKR.USER_NOT_LOGGED_IN,
  CKR.CRYPTOKI_NOT_INITIALIZED,
]);
const OBJECT: ReadonlySet<number> = new Set([CKR.OBJECT_HANDLE_INVALID, CKR.KEY_HANDLE_INVALID]);
const PIN: ReadonlySet<number> = new Set([
  CKR.PIN_INCORRECT,
  CKR.PIN_INVALID,
  CKR.PIN_LEN_RANGE,
  CKR.PIN_EXPIRED,
  CKR.PIN_LOCKED,
  CKR.USER_PIN_NOT_INITIALIZED,
]);

/** The CKR_* value of an error pkcs11js threw (its Pkcs11Error), or `undefined`. */
export function returnValueOf(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as Error & { code?: unknown }).code;
  return typeof code === 'number' && err.message.startsWith('CKR_') ? code : undefined;
}

/** The CKR_* name pkcs11js put in the message, for logs (`CKR_DEVICE_REMOVED`). */
export function returnValueName(err: unknown): string | undefined {
  return returnValueOf(err) === undefined ? undefined : (err as Error).message.split(/[:\s]/)[0];
}

/** How a thrown error is handled; non-PKCS#11 errors are `other`. */
export function failureKind(err: unknown): FailureKind {
  const code = returnValueOf(err);
  if (code === undefined) return 'other';
  if (CONNECTION.has(code)) return 'connection';
  if (OBJECT.has(code)) return 'object';
  if (PIN.has(code)) return 'pin';
  return 'other';
}

/** True when `err` carries the given CKR_* value. */
export function hasReturnValue(err: unknown, code: number): boolean {
  return returnValueOf(err) === code;
}
