// Secret access: may this identity read or write this path, under the policy and extra grants?
import { grantsAllow, type CompiledGrants, type GrantAction } from './compiled-grants.js';
import type { CompiledPolicy } from './compiled-policy.js';
import type { SecretPath } from '../secrets/index.js';

/**
 * Default deny: true only when a grant in the policy, or in `extraGrants` (broker bindings),
 * gives `identity` (a SPIFFE ID or `key:<id>`) `action` on `secretPath` — through a group it
 * belongs to, its exact identity, or a SPIFFE ID pattern it is strictly below. The path is a
 * parsed {@link SecretPath} (checked once where it entered), so a traversal can never slip
 * under a `prefix/*` grant.
 *
 * Cost: one map lookup for the identity, one per ancestor of a SPIFFE ID, and one per segment
 * of the path for prefix grants; independent of how many grants other identities have.
 */
export function canAccess(
  policy: CompiledPolicy,
  identity: string,
  action: GrantAction,
  secretPath: SecretPath,
  extraGrants?: CompiledGrants,
): boolean {
  if (action !== 'read' && action !== 'write') return false;
  if (grantsAllow(policy.grants, identity, action, secretPath)) return true;
  return extraGrants !== undefined && grantsAllow(extraGrants, identity, action, secretPath);
}
