// Public surface of rotating keyrings: the shared schedule, sealed key rows and the rotator.
export {
  expiredSlots,
  nextRotationStep,
  retentionMs,
  rotationTickMs,
  verificationSlots,
} from './key-schedule.js';
export type { KeySchedule, KeySlot, KeyStatus, RotationStep } from './key-schedule.js';
export { openPrivateKey, sealPrivateKey } from './sealed-private-key.js';
export { slotOf } from './key-table.js';
export type { KeyRow, KeyTable, NewKeyRow, StoredKey } from './key-table.js';
export type { KeyringActions, KeyringKind, KeyringLogMessages } from './keyring-kind.js';
export { RotatingKeyring } from './rotating-keyring.js';
export type { RotateOptions, RotatingKeyringDeps, SigningKeyOf } from './rotating-keyring.js';
