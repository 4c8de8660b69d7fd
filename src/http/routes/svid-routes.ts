// POST /v1/svid/x509: projected token → pod attestation → registration → CSR → X509-SVID.
import type { PodAttestor } from '../../attest/index.js';
import type { AuditLog } from '../../audit/index.js';
import type { CertificateAuthority } from '../../ca/index.js';
import type { Clock } from '../../clock/index.js';
import { issuanceRecordChange } from '../../authn/index.js';
import { HallmarkError } from '../../errors/index.js';
import { findRegistration, type PolicyStore } from '../../policy/index.js';
import { issueX509Svid } from '../../x509/index.js';
import type { RoutePlugin } from '../app.js';
import type { RateLimiter } from '../rate-limiter.js';
import { changeCommitted, changeEvent, describeRequest } from '../request-audit.js';

const bodySchema = {
  type: 'object',
  properties: { csr: { type: 'string', minLength: 1, maxLength: 16_384 } },
  required: ['csr'],
  additionalProperties: false,
} as const;

const responseSchema = {
  type: 'object',
  properties: {
    spiffe_id: { type: 'string' },
    svid: { type: 'string' },
    expires_at: { type: 'string' },
    bundle: { type: 'string' },
    federated_bundles: {
      type: 'object',
      additionalProperties: { type: 'object', additionalProperties: true },
    },
  },
  required: ['spiffe_id', 'svid', 'expires_at', 'bundle', 'federated_bundles'],
  additionalProperties: false,
} as const;

/** Dependencies of the SVID route (its plugin options). */
export interface SvidRouteOptions {
  attestor: PodAttestor;
  policy: PolicyStore;
  ca: CertificateAuthority;
  audit: AuditLog;
  clock: Clock;
  limiter: RateLimiter;
  defaultTtlSeconds: number;
  /**
   * The kept bundles of the trust domains a registration federates with, by name (SPIFFE
   * bundle documents); they travel with the SVID. Default: none.
   */
  federatedBundles?: (
    trustDomains: readonly string[],
  ) => Record<string, Readonly<Record<string, unknown>>>;
}

/** The token after `Bearer `; anything else there is passed on for the attestor to refuse. */
function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer +(.*)$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * The identity comes only from Kubernetes (TokenReview + Pod) and the policy; the CSR
 * contributes its public key and nothing else. The certificate leaves the process only after
 * its issuance record (for login's re-checks) and its audit row have committed together.
 */
export const svidRoutes: RoutePlugin<SvidRouteOptions> = async (app, deps) => {
  app.post(
    '/v1/svid/x509',
    { bodyLimit: 32_768, schema: { body: bodySchema, response: { 200: responseSchema } } },
    async (request) => {
      describeRequest(request, { action: 'svid.x509.denied', target: 'svid' });
      const workload = await deps.attestor.attest(bearer(request.headers.authorization));
      const actor = `k8s:${workload.namespace}/${workload.serviceAccount}/${workload.podName}`;
      describeRequest(request, {
        actor,
        target: `pod/${workload.namespace}/${workload.podName}`,
      });
      if (!deps.limiter.take(`${workload.namespace}/${workload.serviceAccount}`)) {
        throw new HallmarkError('ERR_REQUEST_RATE_LIMITED');
      }
      const registration = findRegistration(deps.policy.current(), workload);
      if (registration === null) {
        throw new HallmarkError('ERR_POLICY_NO_REGISTRATION', {
          detail: `${workload.namespace}/${workload.serviceAccount} matches no workload entry`,
        });
      }
      const spiffeId = registration.spiffeId.toString();
      describeRequest(request, { actor: spiffeId, target: spiffeId });
      const { id: caId, authority } = deps.ca.signingAuthority();
      const svid = await issueX509Svid({
        csrPem: request.body.csr,
        spiffeId: registration.spiffeId,
        ttlSeconds: registration.ttlSeconds ?? deps.defaultTtlSeconds,
        authority,
        clock: deps.clock,
      });
      // The issuance record (which login re-checks) and the `svid.x509.issued` row in one
      // transaction: both commit before the certificate leaves the process, or neither does.
      const record = issuanceRecordChange({
        serial: svid.serialHex,
        spiffeId,
        caId,
        notAfter: svid.notAfter,
        publicKeyFingerprint: svid.publicKeyFingerprint,
        issuedAt: new Date(deps.clock.now()),
        namespace: workload.namespace,
        serviceAccount: workload.serviceAccount,
        podName: workload.podName,
        podUid: workload.podUid,
      });
      await deps.audit.appendWith(
        record,
        changeEvent(request, {
          action: 'svid.x509.issued',
          target: `${spiffeId} serial=${svid.serialHex} pod=${workload.podUid}`,
        }),
      );
      changeCommitted(request);
      return {
        spiffe_id: spiffeId,
        svid: svid.chainPem.join(''),
        expires_at: svid.notAfter.toISOString(),
        bundle: deps.ca.bundle().certificatesPem.join(''),
        federated_bundles: deps.federatedBundles?.(registration.federatesWith) ?? {},
      };
    },
  );
};
