// Public surface of symmetric cryptography: AES-256-GCM sealing, the master key, envelopes.
export { seal, open, AEAD_KEY_BYTES } from './aead.js';
export { pooledRandomBytes } from './random-pool.js';
export type { AeadKey } from './aead.js';
export { MasterKey, loadMasterKey } from './master-key.js';
export type { MasterKeyInput } from './master-key.js';
export { sealEnvelope, openEnvelope, unwrapDataKey } from './envelope.js';
export type { Envelope } from './envelope.js';
