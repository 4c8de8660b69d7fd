// Registration matching: which registration selects an attested workload, and with which ID.
import type { SpiffeId } from '../spiffe/index.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { isWithinBounds } from './identity-confinement.js';
import { ownLabel, type CompiledRegistration } from './registration.js';
import { renderSpiffeId } from './spiffe-id-template.js';

/** An attested workload, as the Kubernetes attestor reports it. */
export interface WorkloadSelectorInput {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The registration that selects a workload and what it grants. */
export interface RegistrationMatch {
  /** The SVID's SPIFFE ID, rendered from the registration's template. */
  readonly spiffeId: SpiffeId;
  /** The registration's TTL, or `undefined` for the server default. */
  readonly ttlSeconds: number | undefined;
  /** The registration's position in `workloads`. */
  readonly index: number;
  /** Foreign trust domains whose bundles the workload receives. */
  readonly federatesWith: readonly string[];
}

/**
 * Finds the registration for a workload. Registrations are tried in document order and the
 * first that matches wins: same namespace; same service account if the registration names
 * one; every selector label present on the pod with exactly that value; and every label the
 * SPIFFE ID template reads present with a non-empty value. The rendered ID must lie within
 * the registration's bounds (`/ns/<namespace>/`, or outside `/ns/` and `/hallmark/` with
 * `allowForeignPath`); a first match rendering anything else refuses the workload.
 *
 * @returns the match, or `null` (the caller refuses with `ERR_POLICY_NO_REGISTRATION`).
 */
export function findRegistration(
  policy: CompiledPolicy,
  workload: WorkloadSelectorInput,
): RegistrationMatch | null {
  // Namespaces are an exact selector on every registration, so the first match within the
  // workload's namespace is the first match in the whole document.
  const candidates = policy.registrationsByNamespace.get(workload.namespace);
  if (candidates === undefined) return null;
  for (const registration of candidates) {
    if (!selects(registration, workload)) continue;
    const spiffeId = renderSpiffeId(registration.template, workload);
    if (spiffeId === undefined) continue;
    // The first match decides: one rendering outside its bounds is refused, not passed on to
    // a later registration.
    if (!isWithinBounds(registration, spiffeId)) return null;
    return Object.freeze({
      spiffeId,
      ttlSeconds: registration.ttlSeconds,
      index: registration.index,
      federatesWith: registration.federatesWith,
    });
  }
  return null;
}

/**
 * The login re-check: would the policy, now, issue this workload an SVID with `spiffeId`?
 * Same rule as issuance (first match wins), so a workload whose registration was removed,
 * re-templated or shadowed by a new earlier registration is no longer registered.
 */
export function isStillRegistered(
  policy: CompiledPolicy,
  workload: WorkloadSelectorInput,
  spiffeId: SpiffeId | string,
): boolean {
  const match = findRegistration(policy, workload);
  return match !== null && match.spiffeId.toString() === spiffeId.toString();
}

function selects(registration: CompiledRegistration, workload: WorkloadSelectorInput): boolean {
  if (registration.namespace !== workload.namespace) return false;
  if (
    registration.serviceAccount !== undefined &&
    registration.serviceAccount !== workload.serviceAccount
  ) {
    return false;
  }
  for (const key in registration.labels) {
    if (ownLabel(workload.labels, key) !== registration.labels[key]) return false;
  }
  return true;
}
