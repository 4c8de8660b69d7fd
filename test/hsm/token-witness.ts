// An independent look into a test token: its own session, raw PKCS#11 calls, no Hallmark code
// between the test and what the token says (beyond loading the binding).
import { loadPkcs11Api, type Handle, type Pkcs11Api } from '../../src/hsm/pkcs11-api.js';
import { CKF, CKR, CKU_USER } from '../../src/hsm/pkcs11-constants.js';
import { returnValueOf } from '../../src/hsm/pkcs11-failure.js';
import { USER_PIN, type SoftHsmToken } from './softhsm.js';

/** The binding, with the calls a test makes to disturb the pool (pkcs11js has them all). */
export interface WitnessApi extends Pkcs11Api {
  C_CloseAllSessions(slot: Handle): void;
  C_Logout(session: Handle): void;
  C_SetPIN(session: Handle, oldPin: string, newPin: string): void;
}

/** Runs `look` on a fresh logged-in session of `token`; the library is shared with the pool. */
export async function witness<T>(
  token: SoftHsmToken,
  look: (api: WitnessApi, session: Handle, slot: Handle) => T,
  options: { login?: boolean } = {},
): Promise<T> {
  const api = (await loadPkcs11Api(token.modulePath)) as WitnessApi;
  try {
    api.C_Initialize({ flags: CKF.OS_LOCKING_OK });
  } catch (err) {
    if (returnValueOf(err) !== CKR.CRYPTOKI_ALREADY_INITIALIZED) throw err;
  }
  const slot = api
    .C_GetSlotList(true)
    .find((s) => api.C_GetTokenInfo(s).label.trim() === token.label);
  if (slot === undefined) throw new Error(`witness: no token ${token.label}`);
  const session = api.C_OpenSession(slot, CKF.SERIAL_SESSION | CKF.RW_SESSION);
  try {
    if (options.login !== false) {
      try {
        api.C_Login(session, CKU_USER, USER_PIN);
      } catch (err) {
        if (returnValueOf(err) !== CKR.USER_ALREADY_LOGGED_IN) throw err;
      }
    }
    return look(api, session, slot);
  } finally {
    try {
      api.C_CloseSession(session);
    } catch {
      // closed by the look itself
    }
  }
}

/** Every object matching `template`, by a plain search. */
export function find(
  api: Pkcs11Api,
  session: Handle,
  template: { type: number; value: number | Buffer | boolean }[],
): Handle[] {
  api.C_FindObjectsInit(session, template);
  try {
    return api.C_FindObjects(session, 100);
  } finally {
    api.C_FindObjectsFinal(session);
  }
}

/** The CKR_* value C_GetAttributeValue fails with for `type`, or 0 when it answers. */
export function readFailure(api: Pkcs11Api, session: Handle, object: Handle, type: number): number {
  try {
    api.C_GetAttributeValue(session, object, [{ type }]);
    return 0;
  } catch (err) {
    return returnValueOf(err) ?? -1;
  }
}
