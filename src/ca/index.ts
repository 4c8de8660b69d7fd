// Public surface of the certificate authority.
export { CertificateAuthority, CA_CHANNEL } from './certificate-authority.js';
export type {
  CaDeps,
  CaDistrustResult,
  CaInfo,
  CaSettings,
  DistrustedCa,
  TrustBundle,
} from './certificate-authority.js';
export { createCaMaterial, loadUpstreamAuthority } from './ca-material.js';
export type { CaKeyType, CaMaterial, UpstreamAuthority } from './ca-material.js';
export { nextRotationStep, publishedSlots, rotationTickMs } from './rotation-schedule.js';
export type { CaSlot, RotationStep } from './rotation-schedule.js';
export { announceBundleChange, splitPem } from './ca-store.js';
export { bundleDocument } from './bundle-document.js';
export type { BundleDocument, BundleJwk } from './bundle-document.js';
