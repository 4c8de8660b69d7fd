// Checking a received SVID before it is written: X509-SVID rules and a path to the bundle (the
// certificate engine's validator), our key, the announced SPIFFE ID. A wrong answer must not
// replace working credentials.
import type { KeyObject } from 'node:crypto';
import { HallmarkError } from '../src/errors/index.js';
import { spkiFingerprint, validateX509Svid } from '../src/x509/index.js';
import type { IssuedSvid } from './server-api.js';

function invalid(why: string, cause?: unknown): HallmarkError {
  return new HallmarkError('ERR_SIDECAR_BAD_RESPONSE', { detail: `SVID rejected: ${why}`, cause });
}

/**
 * Verifies `svid` at `now` against the public key it was requested for and returns the
 * instant it stops being usable: the earlier of the leaf's notAfter and `expires_at`.
 * @throws HallmarkError `ERR_SIDECAR_BAD_RESPONSE`
 */
export function checkIssuedSvid(svid: IssuedSvid, publicKey: KeyObject, now: number): number {
  let verified;
  try {
    verified = validateX509Svid([svid.chainPem], [svid.bundlePem], { now: () => now });
  } catch (err) {
    const detail = err instanceof HallmarkError ? (err.detail ?? err.code) : 'unparsable';
    throw invalid(detail, err);
  }
  const ours = spkiFingerprint(publicKey.export({ type: 'spki', format: 'der' }));
  if (verified.publicKeyFingerprint !== ours) throw invalid('certificate is not for our key');
  if (verified.spiffeId.toString() !== svid.spiffeId) {
    throw invalid('URI SAN differs from spiffe_id');
  }
  const expiresAt = Math.min(verified.notAfter.getTime(), svid.expiresAt);
  if (expiresAt <= now) throw invalid('already expired');
  return expiresAt;
}
