// Public surface of Kubernetes manifests: parsing, the attestor's RBAC and Pod Security checks.
export { describeObject, isKubeObject, parseYamlStream } from './manifest-documents.js';
export type { KubeObject, YamlDocument, YamlValue } from './manifest-documents.js';
export { ATTESTOR_RULES, clusterRoleProblems } from './attestor-rbac.js';
export { allContainers, podSecurityProblems, podTemplatesOf } from './pod-security.js';
export type { PodTemplate } from './pod-security.js';
