// Hands each SVID the refresh loop writes to the Workload API's feed, only after its files are
// written: the socket never serves an SVID the files do not have. The federated bundles that
// came with it are taken (and written) first, so the SVID's first message already has them.
import type { CredentialStore, SvidFiles } from './credential-files.js';
import type { CredentialSource, ObtainedSvid } from './credential-source.js';
import type { FederatedBundleFeed } from './federated-bundle-feed.js';
import type { IdentityFeed } from './identity-feed.js';

/**
 * Wraps the loop's credential source and store. The source's answer (with its SPIFFE ID,
 * expiry and federated bundles, which the files alone do not carry) is remembered by its
 * `files` object until the store has written exactly those files; an SVID whose write failed
 * is never published.
 */
export class SvidPublisher {
  private readonly obtained = new WeakMap<SvidFiles, ObtainedSvid>();

  /** `feed`: the Workload API's identity (absent in `--once`); `federated`: the bundles. */
  constructor(
    private readonly feed: IdentityFeed | undefined,
    private readonly federated?: FederatedBundleFeed,
  ) {}

  /** `inner`, remembering every SVID it returns. */
  source(inner: CredentialSource): CredentialSource {
    return {
      obtainSvid: async (signal) => {
        const svid = await inner.obtainSvid(signal);
        this.obtained.set(svid.files, svid);
        return svid;
      },
      obtainToken: (svid, signal) => inner.obtainToken(svid, signal),
    };
  }

  /** `inner`, publishing an SVID (and its federated bundles) once its files are written. */
  store(inner: CredentialStore): CredentialStore {
    return {
      writeSvid: async (files) => {
        await inner.writeSvid(files);
        const svid = this.obtained.get(files);
        this.obtained.delete(files);
        if (svid === undefined) return;
        if (svid.federatedBundles !== undefined) {
          await this.federated?.apply(svid.federatedBundles);
        }
        this.feed?.publish(svid);
      },
      writeToken: (token) => inner.writeToken(token),
      removeToken: () => inner.removeToken(),
      readBundle: () => inner.readBundle(),
      writeFederatedBundles: inner.writeFederatedBundles?.bind(inner),
    };
  }
}
