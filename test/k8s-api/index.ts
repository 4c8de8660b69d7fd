// Public surface of the test Kubernetes API (used by tests, the benchmark and the demo).
export { startTestKubernetesApi, TestKubernetesApi } from './test-kubernetes-api.js';
export type { DownMode, TestKubernetesApiOptions } from './test-kubernetes-api.js';
export { startControlServer } from './control-server.js';
export type { ControlServer } from './control-server.js';
export type { RecordedRequest, RequestOutcome } from './request-log.js';
export type { PodInput, PodJson, PodPhase } from './pod-store.js';
export type { IssueTokenOptions, TokenReviewStatusJson, UserInfoJson } from './token-authority.js';
export { renderKubeconfig } from './kubeconfig.js';
export type { KubeconfigSpec } from './kubeconfig.js';
export { loadRbacPolicy, isAllowed, RBAC_MANIFEST_URL } from './rbac-policy.js';
export type { PolicyRule, RbacPolicy } from './rbac-policy.js';
export { requestAttributes } from './request-attributes.js';
export type { RequestAttributes } from './request-attributes.js';
