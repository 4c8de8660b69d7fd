// GET /v1/bundle/federated: mTLS with an X509-SVID → the bundles of the foreign trust domains the
// caller's registration federates with (its `federatesWith`), as SPIFFE bundle documents.
import type { TLSSocket } from 'node:tls';
import { HallmarkError } from '../../errors/index.js';
import type { VerifiedX509Svid } from '../../x509/index.js';
import type { RoutePlugin } from '../app.js';
import { describeRequest } from '../request-audit.js';

/** A workload as registration matching sees it (from login's re-checks). */
export interface FederatingWorkload {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Dependencies of the federated bundle route (its plugin options). */
export interface FederatedBundleRouteOptions {
  /** The caller's verified X509-SVID (`authn.clientSvid`). */
  readonly clientSvid: (socket: TLSSocket) => VerifiedX509Svid;
  /** Login's re-checks (issued here, pod alive, still registered); the workload they found. */
  readonly checkCaller: (svid: VerifiedX509Svid) => Promise<FederatingWorkload>;
  /** The trust domains the workload's registration federates with (none when not registered). */
  readonly federatesWith: (workload: FederatingWorkload) => readonly string[];
  /** The kept bundles of those trust domains, by name. */
  readonly bundles: (
    trustDomains: readonly string[],
  ) => Record<string, Readonly<Record<string, unknown>>>;
  /** Optional per-identity limiter; refused takes → ERR_REQUEST_RATE_LIMITED. */
  readonly limiter?: { take(key: string): boolean };
}

const responseSchema = {
  type: 'object',
  properties: {
    federated_bundles: {
      type: 'object',
      additionalProperties: { type: 'object', additionalProperties: true },
    },
  },
  required: ['federated_bundles'],
  additionalProperties: false,
} as const;

/**
 * Federated bundles travel with the SVID (SPIRE's model): the SVID response carries them, and
 * the sidecar polls here, over mTLS with that SVID, for the newer ones in between. A workload
 * whose registration does not federate gets an empty map. The bundles are public keys, so a
 * successful read is not audited (like `GET /v1/bundle`); refusals are, by the error handler.
 */
export const federatedBundleRoutes: RoutePlugin<FederatedBundleRouteOptions> = async (
  app,
  deps,
) => {
  app.get(
    '/v1/bundle/federated',
    { schema: { response: { 200: responseSchema } } },
    async (request) => {
      const svid = deps.clientSvid(request.raw.socket as TLSSocket);
      const spiffeId = svid.spiffeId.toString();
      describeRequest(request, { actor: spiffeId });
      if (deps.limiter !== undefined && !deps.limiter.take(spiffeId)) {
        throw new HallmarkError('ERR_REQUEST_RATE_LIMITED');
      }
      const workload = await deps.checkCaller(svid);
      return { federated_bundles: deps.bundles(deps.federatesWith(workload)) };
    },
  );
};
