// Step 1 of attestation, pure: what a TokenReview status must say before a pod is trusted.
import { decodeJwt } from 'jose';
import { HallmarkError } from '../errors/index.js';
import type { TokenReviewStatus } from './kubernetes-objects.js';
import type { TokenSubject } from './workload-identity.js';

/** Extra keys the API server sets for pod-bound tokens (KEP-1205 bound service account tokens). */
export const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';
export const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';

const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';
// DNS-1123 label (namespaces) and subdomain (service account and pod names), as Kubernetes
// validates them (k8s.io/apimachinery/pkg/util/validation).
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** True for a valid namespace name. */
export function isNamespaceName(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

/** True for a valid ServiceAccount or Pod name. */
export function isObjectName(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

/**
 * Splits `system:serviceaccount:<namespace>:<name>` (the username Kubernetes gives service
 * account tokens); null for any other username.
 */
export function parseServiceAccountUsername(
  username: string,
): { namespace: string; serviceAccount: string } | null {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return null;
  const parts = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  if (parts.length !== 2) return null;
  const [namespace, serviceAccount] = parts as [string, string];
  if (!isNamespaceName(namespace) || !isObjectName(serviceAccount)) return null;
  return { namespace, serviceAccount };
}

/**
 * Whether an unverified token's `aud` names `audience`: true, false, or null when the token
 * is not a decodable JWT. Used only to choose between two refusal codes after the API
 * server rejected the token; never to establish identity.
 */
export function tokenClaimsAudience(token: string, audience: string): boolean | null {
  try {
    const aud = decodeJwt(token).aud;
    return typeof aud === 'string'
      ? aud === audience
      : Array.isArray(aud) && aud.includes(audience);
  } catch {
    return null;
  }
}

function singleExtra(
  extra: { [key: string]: string[] } | undefined,
  key: string,
): string | undefined | null {
  const values = extra?.[key];
  if (values === undefined) return undefined;
  // The API server sets exactly one value; anything else is not a token it bound.
  return Array.isArray(values) &&
    values.length === 1 &&
    typeof values[0] === 'string' &&
    values[0] !== ''
    ? values[0]
    : null;
}

/**
 * Checks a TokenReview status: authenticated, no error, the audience echoed, a service
 * account username, and the pod-name/pod-uid extras of a pod-bound token.
 * `token` (optional) only refines the code of a rejection (audience vs. invalid).
 * @throws HallmarkError ERR_ATTEST_TOKEN_INVALID, ERR_ATTEST_AUDIENCE_MISMATCH,
 *   ERR_ATTEST_TOKEN_NOT_POD_BOUND
 */
export function checkTokenReview(
  status: TokenReviewStatus,
  audience: string,
  token?: string,
): TokenSubject {
  if (status.authenticated !== true || (status.error !== undefined && status.error !== '')) {
    const detail = `TokenReview not authenticated: ${status.error || 'no error given'}`;
    // kube-apiserver rejects a token whose audiences miss spec.audiences outright, so a
    // rejected token that does not name our audience is reported as an audience problem.
    if (token !== undefined && tokenClaimsAudience(token, audience) === false) {
      throw new HallmarkError('ERR_ATTEST_AUDIENCE_MISMATCH', { detail });
    }
    throw new HallmarkError('ERR_ATTEST_TOKEN_INVALID', { detail });
  }
  if (!Array.isArray(status.audiences) || !status.audiences.includes(audience)) {
    throw new HallmarkError('ERR_ATTEST_AUDIENCE_MISMATCH', {
      detail: `TokenReview audiences ${JSON.stringify(status.audiences ?? [])} do not include "${audience}"`,
    });
  }
  const username = status.user?.username ?? '';
  const account = parseServiceAccountUsername(username);
  if (account === null) {
    throw new HallmarkError('ERR_ATTEST_TOKEN_INVALID', {
      detail: `token user "${username}" is not a service account`,
    });
  }
  const podName = singleExtra(status.user?.extra, POD_NAME_EXTRA);
  const podUid = singleExtra(status.user?.extra, POD_UID_EXTRA);
  if (podName === undefined || podUid === undefined) {
    throw new HallmarkError('ERR_ATTEST_TOKEN_NOT_POD_BOUND', {
      detail: `token of ${username} carries no ${podName === undefined ? POD_NAME_EXTRA : POD_UID_EXTRA}`,
    });
  }
  if (podName === null || podUid === null || !isObjectName(podName)) {
    throw new HallmarkError('ERR_ATTEST_TOKEN_INVALID', {
      detail: `token of ${username} has malformed pod extras`,
    });
  }
  return {
    namespace: account.namespace,
    serviceAccount: account.serviceAccount,
    serviceAccountUid: status.user?.uid || null,
    podName,
    podUid,
  };
}
