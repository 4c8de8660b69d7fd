// Public surface of rotating keyrings: the shared schedule, key rows, vault, signers and the rotator.
export {
  expiredSlots,
  nextRotationStep,
  retentionMs,
  rotationTickMs,
  verificationSlots,
} from './key-schedule.js';
export type { KeySchedule, KeySlot, KeyStatus, RotationStep } from './key-schedule.js';
export { planDistrust } from './distrust-plan.js';
export type { DistrustPlan } from './distrust-plan.js';
export { openPrivateKey, sealPrivateKey } from './sealed-private-key.js';
export { localSigner, signerOf, verifiesFor } from './key-signer.js';
export type { KeySigner, SignOptions } from './key-signer.js';
export { signCompactJws } from './compact-jws.js';
export type { SignerJwsAlgorithm, SignerJwsHeader } from './compact-jws.js';
export { KeyVault, SEALED_ONLY } from './key-vault.js';
export type { HeldKey, KeyringKeyType, NewKey, PrivateKeyCustody } from './key-vault.js';
export { custodyColumns, slotOf, tableStore } from './key-table.js';
export type { KeyRow, KeyTable, NewKeyRow, StoredKey } from './key-table.js';
export type { KeyStore } from './key-store.js';
export type { KeyChange } from './key-steps.js';
export type {
  KeyringActions,
  KeyringErrors,
  KeyringKind,
  KeyringLogMessages,
} from './keyring-kind.js';
export { RotatingKeyring } from './rotating-keyring.js';
export type {
  ChangeRequest,
  DistrustOptions,
  DistrustResult,
  RotateOptions,
  RotatingKeyringDeps,
  RotationPolicy,
  SigningKeyOf,
} from './rotating-keyring.js';
