// Public surface of the HSM layer: keys generated and used inside a PKCS#11 token.
export { HsmUnavailableError } from './hsm-error.js';
export type { HsmUnavailableReason } from './hsm-error.js';
export { hsmKeyTypeOf, keyLabel, keyObjectId, newTokenKeyRef } from './key-objects.js';
export type { HsmKeyKind, HsmKeyType, TokenKeyRef } from './key-objects.js';
export { rawToDer } from './ecdsa-signature.js';
export { TokenKeys } from './token-keys.js';
export type { TokenObject } from './token-keys.js';
export { readTokenPin, TokenPin } from './token-pin.js';
export { TokenSessionPool } from './token-session-pool.js';
export type { TokenReadiness, TokenSessionPoolOptions } from './token-session-pool.js';
export { TokenSigner } from './token-signer.js';
export type { KeySigner, SignatureHash, SignOptions } from './token-signer.js';
