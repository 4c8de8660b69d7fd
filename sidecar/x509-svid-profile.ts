// The X509-SVID profile's two streams: FetchX509SVID and FetchX509Bundles, fed by the identity
// the refresh loop publishes and the federated bundles. @see SPIFFE Workload API §5.2
import type { FederatedBundle, FederatedBundleFeed } from './federated-bundle-feed.js';
import type { IdentityFeed, IdentitySnapshot } from './identity-feed.js';
import type { OpenStream } from './open-stream.js';
import type { X509BundlesResponse, X509SVIDResponse } from './workload-api-proto.js';
import { x509BundlesResponse, x509SvidResponse } from './workload-svid.js';
import type { WorkloadSvid } from './workload-svid.js';

type Federated = ReadonlyMap<string, FederatedBundle>;
const NONE: Federated = new Map();

/** Subscribes to the federated bundles (if there is a feed); returns the unsubscribe. */
function follow(feed: FederatedBundleFeed | undefined, listener: () => void): () => void {
  return feed === undefined ? () => undefined : feed.subscribe(listener);
}

/**
 * FetchX509SVID: the current SVID at once (§4.3: the first message without delay), then one
 * message per renewal or change of the federated bundles. Before the first SVID the stream
 * simply waits for it. When the SVID expires while renewal fails the stream ends with
 * Unavailable, or PermissionDenied if the server refused the workload (§5.2.1), so the client
 * stops using it and retries with backoff.
 */
export function serveX509Svids(
  identity: IdentityFeed,
  stream: OpenStream<X509SVIDResponse>,
  federated?: FederatedBundleFeed,
): void {
  let sent: { svid: WorkloadSvid; federated: Federated } | undefined;
  const onSnapshot = ({ svid, error }: IdentitySnapshot): void => {
    if (svid !== undefined) {
      const bundles = federated?.snapshot() ?? NONE;
      if (svid === sent?.svid && bundles === sent.federated) return;
      sent = { svid, federated: bundles };
      stream.send(x509SvidResponse(svid, bundles));
    } else if (error !== undefined) {
      stream.fail(error);
    }
  };
  stream.onClose(identity.subscribe(onSnapshot));
  stream.onClose(follow(federated, () => onSnapshot(identity.snapshot())));
  onSnapshot(identity.snapshot());
}

/**
 * FetchX509Bundles: the trust domain's CA certificates and those of the federated trust
 * domains, again whenever any of them changes (a CA rotation reaches the sidecar with the next
 * SVID; a federated one with the next poll). The bundles do not expire with the SVID: the last
 * ones received are served until newer ones arrive; the stream only ends when the sidecar
 * stops, or when nothing was ever obtained and the server refused the workload.
 */
export function serveX509Bundles(
  identity: IdentityFeed,
  stream: OpenStream<X509BundlesResponse>,
  federated?: FederatedBundleFeed,
): void {
  let sent: { own: Buffer; federated: Federated } | undefined;
  const onSnapshot = ({ latest, error }: IdentitySnapshot): void => {
    if (error?.code === 'ERR_WORKLOADAPI_STOPPING') {
      stream.fail(error);
    } else if (latest !== undefined) {
      const bundles = federated?.snapshot() ?? NONE;
      if (sent?.own.equals(latest.bundleDer) && sent.federated === bundles) return;
      sent = { own: latest.bundleDer, federated: bundles };
      stream.send(x509BundlesResponse(latest, bundles));
    } else if (error !== undefined) {
      stream.fail(error);
    }
  };
  stream.onClose(identity.subscribe(onSnapshot));
  stream.onClose(follow(federated, () => onSnapshot(identity.snapshot())));
  onSnapshot(identity.snapshot());
}
