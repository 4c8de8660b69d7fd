// The X509-SVID as the Workload API serves it: PEM from the refresh loop in, DER messages out.
import { createPrivateKey } from 'node:crypto';
import { parseSpiffeId } from '../src/spiffe/index.js';
import type { SpiffeId } from '../src/spiffe/index.js';
import { decodeCertificates } from '../src/x509/index.js';
import type { ObtainedSvid } from './credential-source.js';
import type { FederatedBundle } from './federated-bundle-feed.js';
import type { X509BundlesResponse, X509SVIDResponse } from './workload-api-proto.js';

/** An SVID the sidecar obtained and wrote, in both encodings. */
export interface WorkloadSvid {
  readonly spiffeId: SpiffeId;
  /** When it stops being usable (ms): the earlier of notAfter and the server's `expires_at`. */
  readonly expiresAt: number;
  /** PEM, as in the files (the mTLS client certificate for `POST /v1/svid/jwt`). */
  readonly chainPem: string;
  readonly keyPem: string;
  /** DER certificates, leaf first, concatenated. @see SPIFFE Workload API §5.1 `x509_svid` */
  readonly chainDer: Buffer;
  /** Unencrypted PKCS#8 DER. */
  readonly keyDer: Buffer;
  /** DER CA certificates of the trust domain, concatenated. */
  readonly bundleDer: Buffer;
}

/**
 * Converts once, when the SVID is obtained, so every stream message is ready-made. The input
 * was already checked (X509-SVID rules, our key, the SPIFFE ID) before its files were written.
 */
export function workloadSvidOf(obtained: ObtainedSvid): WorkloadSvid {
  const { chainPem, keyPem, bundlePem } = obtained.files;
  return Object.freeze({
    spiffeId: parseSpiffeId(obtained.spiffeId),
    expiresAt: obtained.expiresAt,
    chainPem,
    keyPem,
    chainDer: Buffer.concat(decodeCertificates([chainPem])),
    keyDer: createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' }),
    bundleDer: Buffer.concat(decodeCertificates([bundlePem])),
  });
}

/** The key of a trust domain in bundle maps: its SPIFFE ID, `spiffe://<trust domain>`. */
export function trustDomainIdOf(svid: WorkloadSvid): string {
  return `spiffe://${svid.spiffeId.trustDomain}`;
}

/** The X.509 bundles of the federated trust domains, keyed by their SPIFFE IDs (§5.1). */
function federatedX509(federated: ReadonlyMap<string, FederatedBundle>): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  // A trust domain that publishes only JWT authorities has no X.509 bundle to give.
  for (const bundle of federated.values())
    if (bundle.x509Der.length > 0) out[bundle.id] = bundle.x509Der;
  return out;
}

/**
 * The `FetchX509SVID` message: one identity (the default one, §8), no CRLs, and the bundles of
 * the foreign trust domains the workload's registration federates with.
 */
export function x509SvidResponse(
  svid: WorkloadSvid,
  federated: ReadonlyMap<string, FederatedBundle> = new Map(),
): X509SVIDResponse {
  return {
    svids: [
      {
        spiffe_id: svid.spiffeId.toString(),
        x509_svid: svid.chainDer,
        x509_svid_key: svid.keyDer,
        bundle: svid.bundleDer,
        hint: '',
      },
    ],
    crl: [],
    federated_bundles: federatedX509(federated),
  };
}

/**
 * The `FetchX509Bundles` message: the SVID's own trust domain and its CA certificates, and
 * those of every federated trust domain (§5.2.2).
 */
export function x509BundlesResponse(
  svid: WorkloadSvid,
  federated: ReadonlyMap<string, FederatedBundle> = new Map(),
): X509BundlesResponse {
  return {
    crl: [],
    bundles: { ...federatedX509(federated), [trustDomainIdOf(svid)]: svid.bundleDer },
  };
}
