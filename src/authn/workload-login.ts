// Workload login: an SVID the server issued, to a workload still registered, in a pod still alive.
import { HallmarkError } from '../errors/index.js';
import type { VerifiedX509Svid } from '../x509/index.js';
import type { AccessTokenIssuer, IssuedAccessToken } from './access-token-issuer.js';
import { distrustedSvidError, type DistrustedIssuers } from './distrusted-issuers.js';
import type { IssuedCertificateLookup } from './issued-certificates.js';
import type { PodPresenceCache, PodRef } from './pod-presence.js';

/** A workload as registration matching sees it (policy's `WorkloadSelectorInput`). */
export interface RegisteredWorkload {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Would the current policy still issue this workload an SVID with `spiffeId`? The server wires
 * policy's `isStillRegistered` over the current policy here.
 */
export type RegistrationCheck = (workload: RegisteredWorkload, spiffeId: string) => boolean;

/** What login needs. */
export interface WorkloadLoginDeps {
  readonly certificates: IssuedCertificateLookup;
  readonly pods: Pick<PodPresenceCache, 'check'>;
  readonly registrationCheck: RegistrationCheck;
  readonly tokens: Pick<AccessTokenIssuer, 'issue'>;
  /** CAs an operator distrusted (default none): their SVIDs are refused by issuance record. */
  readonly distrusted?: DistrustedIssuers;
}

/**
 * Trades a verified client SVID for an access token. The SVID must be one this server issued
 * (its serial recorded, same SPIFFE ID and public key), so the workload it was issued to is
 * known from attestation, never from the certificate; that pod must still be the same live
 * instance (one cached `GET pod`), and the policy must still register the workload to that
 * SPIFFE ID. The token expires with the SVID at the latest.
 * @throws HallmarkError ERR_AUTHN_CLIENT_CERT_INVALID, ERR_AUTHN_CA_DISTRUSTED,
 *   ERR_AUTHN_POD_GONE, ERR_AUTHN_WORKLOAD_NOT_REGISTERED (reasons in `detail`).
 */
export async function loginWorkload(
  deps: WorkloadLoginDeps,
  svid: VerifiedX509Svid,
): Promise<IssuedAccessToken> {
  const { pod } = await checkWorkload(deps, svid);
  return deps.tokens.issue({
    identity: svid.spiffeId.toString(),
    role: 'workload',
    pod,
    notAfter: svid.notAfter.getTime(),
  });
}

/** A client SVID's workload after login's checks. */
export interface CheckedWorkload {
  /** The pod the SVID was issued to, when known. */
  readonly pod: PodRef | undefined;
  /** The workload as registration matching sees it now (live pod labels). */
  readonly workload: RegisteredWorkload;
}

/**
 * Login's checks without the token: the SVID was issued here to an attested workload by a CA
 * still trusted, its pod is still the same live instance, and the policy still registers it.
 * Used by login and by every other route that trusts a client SVID (JWT-SVID issuance,
 * federated bundles).
 */
export async function checkWorkload(
  deps: Omit<WorkloadLoginDeps, 'tokens'>,
  svid: VerifiedX509Svid,
): Promise<CheckedWorkload> {
  const spiffeId = svid.spiffeId.toString();
  const record = await deps.certificates.findBySerial(svid.serialHex);
  if (record === null) {
    throw new HallmarkError('ERR_AUTHN_CLIENT_CERT_INVALID', {
      detail: `serial ${svid.serialHex} was not issued by this server`,
    });
  }
  if (record.spiffeId !== spiffeId || record.publicKeyFingerprint !== svid.publicKeyFingerprint) {
    throw new HallmarkError('ERR_AUTHN_CLIENT_CERT_INVALID', {
      detail: `serial ${svid.serialHex} was issued for another SPIFFE ID or key`,
    });
  }
  // By record, not by chain: it holds even where the chain ends at an upstream root that is
  // still trusted, and whatever a cache in front of the record remembers.
  if (deps.distrusted?.().some((issuer) => issuer.id === record.caId)) {
    throw distrustedSvidError(record.caId, svid.serialHex);
  }
  if (record.namespace === null || record.serviceAccount === null) {
    throw new HallmarkError('ERR_AUTHN_WORKLOAD_NOT_REGISTERED', {
      detail: `SVID ${svid.serialHex} was not issued to an attested workload`,
    });
  }
  let pod: PodRef | undefined;
  let labels: Readonly<Record<string, string>> = {};
  if (record.podName !== null && record.podUid !== null) {
    pod = { namespace: record.namespace, podName: record.podName, podUid: record.podUid };
    const presence = await deps.pods.check(pod);
    if (!presence.present) {
      throw new HallmarkError('ERR_AUTHN_POD_GONE', {
        detail: `pod ${pod.namespace}/${pod.podName} (${pod.podUid}) ${presence.reason}`,
      });
    }
    // Labels are read from the live pod: a relabelled pod may no longer be selected.
    labels = presence.pod.labels;
  }
  const workload = { namespace: record.namespace, serviceAccount: record.serviceAccount, labels };
  if (!deps.registrationCheck(workload, spiffeId)) {
    throw new HallmarkError('ERR_AUTHN_WORKLOAD_NOT_REGISTERED', {
      detail: `${record.namespace}/${record.serviceAccount} is no longer registered as ${spiffeId}`,
    });
  }
  return { pod, workload };
}
