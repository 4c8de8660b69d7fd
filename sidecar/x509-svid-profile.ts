// The X509-SVID profile's two streams: FetchX509SVID and FetchX509Bundles, fed by the identity
// the refresh loop publishes. @see SPIFFE Workload API §5.2
import type { IdentityFeed, IdentitySnapshot } from './identity-feed.js';
import type { OpenStream } from './open-stream.js';
import type { X509BundlesResponse, X509SVIDResponse } from './workload-api-proto.js';
import { x509BundlesResponse, x509SvidResponse } from './workload-svid.js';
import type { WorkloadSvid } from './workload-svid.js';

/**
 * FetchX509SVID: the current SVID at once (§4.3: the first message without delay), then one
 * message per renewal. Before the first SVID the stream simply waits for it. When the SVID
 * expires while renewal fails the stream ends with Unavailable, or PermissionDenied if the
 * server refused the workload (§5.2.1), so the client stops using it and retries with backoff.
 */
export function serveX509Svids(identity: IdentityFeed, stream: OpenStream<X509SVIDResponse>): void {
  let sent: WorkloadSvid | undefined;
  const onSnapshot = ({ svid, error }: IdentitySnapshot): void => {
    if (svid !== undefined) {
      if (svid === sent) return;
      sent = svid;
      stream.send(x509SvidResponse(svid));
    } else if (error !== undefined) {
      stream.fail(error);
    }
  };
  stream.onClose(identity.subscribe(onSnapshot));
  onSnapshot(identity.snapshot());
}

/**
 * FetchX509Bundles: the trust domain's CA certificates, again whenever they change (a CA
 * rotation reaches the sidecar with the next SVID). The bundle does not expire with the SVID:
 * the last one received is served until a newer one arrives; the stream only ends when the
 * sidecar stops, or when nothing was ever obtained and the server refused the workload.
 */
export function serveX509Bundles(
  identity: IdentityFeed,
  stream: OpenStream<X509BundlesResponse>,
): void {
  let sent: Buffer | undefined;
  const onSnapshot = ({ latest, error }: IdentitySnapshot): void => {
    if (error?.code === 'ERR_WORKLOADAPI_STOPPING') {
      stream.fail(error);
    } else if (latest !== undefined) {
      if (sent?.equals(latest.bundleDer)) return;
      sent = latest.bundleDer;
      stream.send(x509BundlesResponse(latest));
    } else if (error !== undefined) {
      stream.fail(error);
    }
  };
  stream.onClose(identity.subscribe(onSnapshot));
  onSnapshot(identity.snapshot());
}
