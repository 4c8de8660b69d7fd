// Public surface of rotating keyrings: the shared schedule, sealing and rotation of signing keys.
export {
  expiredSlots,
  nextRotationStep,
  retentionMs,
  rotationTickMs,
  verificationSlots,
} from './key-schedule.js';
export type { KeySchedule, KeySlot, KeyStatus, RotationStep } from './key-schedule.js';
export { openPrivateKey, sealPrivateKey } from './sealed-private-key.js';
