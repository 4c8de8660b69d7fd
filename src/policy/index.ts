// Public surface of the policy: document compilation, registration matching, secret access.
export { compilePolicy, emptyPolicy } from './compiled-policy.js';
export type { CompiledPolicy, CompilePolicyOptions } from './compiled-policy.js';
export { findRegistration, isStillRegistered } from './registration-match.js';
export type { RegistrationMatch, WorkloadSelectorInput } from './registration-match.js';
export type { CompiledRegistration } from './registration.js';
export { foreignPathSummary } from './identity-confinement.js';
export { DEFAULT_SPIFFE_ID_TEMPLATE } from './spiffe-id-template.js';
export { canAccess } from './access.js';
export { compileGrants, EMPTY_GRANTS } from './compiled-grants.js';
export type {
  CompiledGrants,
  CompileGrantsOptions,
  GrantAction,
  GrantSpec,
} from './compiled-grants.js';
export { apiKeyIdentity, API_KEY_IDENTITY_PREFIX } from './grant-subject.js';
export type { PolicyStore } from './policy-store.js';
export { PolicyInvalidError, isPolicyInvalidError } from './policy-invalid-error.js';
export type { PolicyProblem } from './policy-problem.js';
export { DEFAULT_YAML_LIMITS } from './safe-yaml.js';
export type { YamlLimits } from './safe-yaml.js';
export { PgPolicyStore, POLICY_CHANNEL } from './pg-policy-store.js';
export type { LoadedPolicy } from './pg-policy-store.js';
