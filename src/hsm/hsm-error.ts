// The errors of the HSM layer at run time; all fail closed as "CA unavailable" (HTTP 503).
import { HallmarkError } from '../errors/index.js';

/**
 * Why the token cannot sign now:
 * - `token-unavailable`: the token or its sessions are gone and reconnecting failed;
 * - `pin-rejected`: the token refused the PIN when logging in again (no retry: retries could
 *   lock the PIN; a restart with the right PIN file recovers);
 * - `key-missing`: the token is there but holds no key with the requested CKA_ID;
 * - `key-mismatch`: the key under that CKA_ID signs, but not for the public key the database
 *   holds for it (another token, or an object put there by someone else);
 * - `closed`: the pool was closed.
 */
export type HsmUnavailableReason =
  'token-unavailable' | 'pin-rejected' | 'key-missing' | 'key-mismatch' | 'closed';

/**
 * The token cannot serve a signing operation. Code `ERR_CA_UNAVAILABLE`, so a request that needs
 * the CA fails closed with 503; callers signing other things may rewrap it in their own code.
 */
export class HsmUnavailableError extends HallmarkError {
  readonly reason: HsmUnavailableReason;
  constructor(reason: HsmUnavailableReason, detail: string, cause?: unknown) {
    super('ERR_CA_UNAVAILABLE', { detail: `HSM ${reason}: ${detail}`, cause });
    this.name = 'HsmUnavailableError';
    this.reason = reason;
  }
}
