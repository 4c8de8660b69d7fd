// The access-token claim set: what Hallmark signs and how verified claims become a caller (pure).
import type { JWTPayload } from 'jose';
import { API_KEY_IDENTITY_PREFIX } from '../policy/index.js';
import type { CallerIdentity } from './caller-identity.js';
import type { PodRef } from './pod-presence.js';

/** `aud` of every access token (docs/http-api.md, "Access tokens"). */
export const ACCESS_TOKEN_AUDIENCE = 'hallmark';

/** `typ` header of access tokens. @see RFC 7519 §5.1 */
export const ACCESS_TOKEN_TYP = 'JWT';

/**
 * Who a token is for: a workload (SPIFFE ID subject), an application API key or the admin
 * key (`key:<id>` subjects). Carried in the `role` claim.
 */
export type AccessTokenRole = 'workload' | 'app' | 'admin';

/** What an access token asserts, before signing. */
export interface AccessTokenSubject {
  /** `sub`: a SPIFFE ID for workloads, `key:<id>` for API keys. */
  readonly identity: string;
  readonly role: AccessTokenRole;
  /** The pod the workload was attested in, when known; enables pod-deletion revocation. */
  readonly pod?: PodRef | undefined;
  /** The token must not outlive this moment (epoch ms), e.g. the SVID it was traded for. */
  readonly notAfter?: number | undefined;
}

/** Hallmark's private claims beside the registered ones (RFC 7519 §4.1). */
export interface AccessTokenClaims extends JWTPayload {
  role: AccessTokenRole;
  pod_uid?: string;
  pod_namespace?: string;
  pod_name?: string;
}

/** The private claims for a subject. */
export function privateClaims(subject: AccessTokenSubject): AccessTokenClaims {
  const claims: AccessTokenClaims = { role: subject.role };
  if (subject.pod !== undefined) {
    claims.pod_uid = subject.pod.podUid;
    claims.pod_namespace = subject.pod.namespace;
    claims.pod_name = subject.pod.podName;
  }
  return claims;
}

/** A verified token's claims turned into a caller, or the reason they are not acceptable. */
export type ClaimsReading = VerifiedClaims | { readonly ok: false; readonly reason: string };

/** Acceptable claims: the caller, when the token was issued, and its pod if any. */
export interface VerifiedClaims {
  readonly ok: true;
  readonly identity: CallerIdentity;
  readonly issuedAtMs: number;
  readonly pod: PodRef | undefined;
}

function optionalString(value: unknown): value is string | undefined {
  return value === undefined || (typeof value === 'string' && value.length > 0);
}

/**
 * Reads signature-verified claims. The role must fit the subject's form (a workload role on a
 * `key:` subject, or the reverse, is refused), and the pod claims come all together or not at all.
 */
export function readClaims(payload: JWTPayload): ClaimsReading {
  const {
    sub,
    jti,
    iat,
    exp,
    role,
    pod_uid: podUid,
    pod_namespace: namespace,
    pod_name: podName,
  } = payload as Partial<AccessTokenClaims>;
  if (typeof sub !== 'string' || sub === '') return { ok: false, reason: 'sub missing' };
  if (typeof jti !== 'string' || jti === '') return { ok: false, reason: 'jti missing' };
  if (typeof iat !== 'number' || typeof exp !== 'number')
    return { ok: false, reason: 'iat or exp missing' };
  const keyed = sub.startsWith(API_KEY_IDENTITY_PREFIX);
  const workload = sub.startsWith('spiffe://');
  if (role === 'workload' ? !workload : role === 'app' || role === 'admin' ? !keyed : true) {
    return { ok: false, reason: `role ${String(role)} does not fit the subject` };
  }
  if (!optionalString(podUid) || !optionalString(namespace) || !optionalString(podName)) {
    return { ok: false, reason: 'malformed pod claims' };
  }
  const podClaims = [podUid, namespace, podName].filter((v) => v !== undefined).length;
  if (podClaims !== 0 && (podClaims !== 3 || role !== 'workload')) {
    return { ok: false, reason: 'incomplete pod claims' };
  }
  const pod =
    podUid !== undefined && namespace !== undefined && podName !== undefined
      ? { namespace, podName, podUid }
      : undefined;
  return {
    ok: true,
    issuedAtMs: iat * 1000,
    pod,
    identity: {
      id: sub,
      kind: workload ? 'workload' : 'apikey',
      admin: role === 'admin',
      podUid,
      tokenId: jti,
      expiresAt: exp * 1000,
    },
  };
}
