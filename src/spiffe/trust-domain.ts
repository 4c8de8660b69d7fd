// Trust domains: parsing the name that anchors every SPIFFE ID Hallmark issues or accepts.
import { scanSpiffeId, trustDomainNameReason } from './spiffe-id-syntax.js';
import { rejection } from './validation-reason.js';

/**
 * Parses a trust domain given as a bare name (`example.org`) or as a SPIFFE ID
 * (`spiffe://example.org`; a path, if present, is validated and dropped), as go-spiffe's
 * `TrustDomainFromString` does. Nothing is normalised: `Example.org` is rejected, not lowered.
 *
 * @returns the trust domain name, e.g. `example.org`.
 * @throws HallmarkError `ERR_SPIFFE_TRUST_DOMAIN_INVALID`; the message is go-spiffe's wording.
 * @see SPIFFE-ID §2.1
 */
export function parseTrustDomain(input: string): string {
  // go-spiffe looks for ":/" rather than "://" so that "spiffe:/td" reports the bad scheme.
  if (input.includes(':/')) {
    const parts = scanSpiffeId(input);
    if (typeof parts === 'string') {
      throw rejection('ERR_SPIFFE_TRUST_DOMAIN_INVALID', 'trust domain', input, parts);
    }
    return parts.trustDomain;
  }
  const reason = trustDomainNameReason(input);
  if (reason !== undefined) {
    throw rejection('ERR_SPIFFE_TRUST_DOMAIN_INVALID', 'trust domain', input, reason);
  }
  return input;
}
