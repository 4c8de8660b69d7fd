// The policy store: the current compiled policy and its version, replaced only by a valid one.
import type { CompiledPolicy } from './compiled-policy.js';

/**
 * Where the server gets the policy in force. Implementations validate a new document fully
 * before it replaces the current one; on failure the current policy stays in force.
 */
export interface PolicyStore {
  /** The policy in force (the empty, deny-all policy before any document is loaded). */
  current(): CompiledPolicy;
  /** The version of the policy in force; 0 before any document is loaded. */
  version(): number;
  /**
   * Validates `yamlText` and, if valid, makes it the policy in force.
   * @returns the new version.
   * @throws PolicyInvalidError `ERR_POLICY_INVALID`; the current policy is unchanged.
   */
  replace(yamlText: string): Promise<number>;
}
