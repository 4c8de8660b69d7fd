// Access token ids (`jti`): 128 random bits each.
import { pooledRandomBytes } from '../crypto/index.js';

const ID_BYTES = 16;

/** A fresh 128-bit random token id, base64url (22 characters), from the pooled CSPRNG bytes. */
export function newTokenId(): string {
  return pooledRandomBytes(ID_BYTES).toString('base64url');
}
