// Public surface of pod attestation (Kubernetes TokenReview + Pod GET).
export { PodAttestor, DEFAULT_TOKENREVIEW_CONCURRENCY } from './pod-attestor.js';
export type { PodAttestorOptions } from './pod-attestor.js';
export { createKubernetesApi } from './client-node-api.js';
export type { KubernetesApiOptions } from './client-node-api.js';
export type { KubernetesApi } from './kubernetes-api.js';
export type { Pod, TokenReviewStatus, UserInfo } from './kubernetes-objects.js';
export type { TokenSubject, WorkloadIdentity } from './workload-identity.js';
export {
  checkTokenReview,
  parseServiceAccountUsername,
  tokenClaimsAudience,
  isNamespaceName,
  isObjectName,
  POD_NAME_EXTRA,
  POD_UID_EXTRA,
} from './token-review-check.js';
export { checkPod } from './pod-check.js';
