// A federation relationship as the policy configures it: whose bundle, from where, and how the
// endpoint proves itself. @see SPIFFE Federation §5.1, §5.2.2.2
import { createHash } from 'node:crypto';
import { bundleDocumentOf, type SpiffeBundle } from '../spiffe/index.js';

/** One foreign trust domain this one trusts. */
export interface FederationRelationship {
  /** The foreign trust domain (bare name). */
  readonly trustDomain: string;
  readonly bundleEndpointUrl: string;
  readonly profile: 'https_web' | 'https_spiffe';
  /** `https_spiffe`: the SPIFFE ID the endpoint's X509-SVID must carry, in `trustDomain`. */
  readonly endpointSpiffeId?: string;
  /** `https_spiffe`: the operator's up-to-date bundle, trusted until the first fetch. */
  readonly bootstrapBundle?: SpiffeBundle;
  /** {@link bootstrapFingerprint} of `bootstrapBundle`, computed once. */
  readonly bootstrapSha256?: string;
}

/**
 * A fingerprint of a bootstrap bundle's authorities: when the operator puts a different one in
 * the policy, it replaces whatever was fetched (Federation §4.2: operators may locally update
 * a foreign bundle at any time; it is the latest until the next refresh).
 */
export function bootstrapFingerprint(bundle: SpiffeBundle): string {
  const { keys } = bundleDocumentOf({
    ...bundle,
    sequence: undefined,
    refreshHintSeconds: undefined,
  });
  return createHash('sha256').update(JSON.stringify(keys)).digest('hex');
}
