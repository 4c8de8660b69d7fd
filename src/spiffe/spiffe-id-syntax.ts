// The SPIFFE ID grammar: splits `spiffe://<trust domain><path>` and names the first violation.
import { isTrustDomainChar } from './charset.js';
import { pathReason } from './spiffe-path.js';
import {
  MAX_SPIFFE_ID_BYTES,
  MAX_TRUST_DOMAIN_BYTES,
  VALIDATION_REASON,
  type ValidationReason,
} from './validation-reason.js';

const SCHEME_PREFIX = 'spiffe://';

/** The two parts of a syntactically valid SPIFFE ID. */
export interface SpiffeIdParts {
  readonly trustDomain: string;
  readonly path: string;
}

/**
 * Splits a SPIFFE ID into trust domain and path, or returns why it is not one. Works on the
 * string as given: the scheme is case-sensitive, nothing is percent-decoded or lowercased,
 * and userinfo, port, query and fragment fail because `@`, `:`, `?` and `#` are outside both
 * character sets.
 * @see SPIFFE-ID §2, §2.1, §2.2, §2.3
 */
export function scanSpiffeId(input: string): SpiffeIdParts | ValidationReason {
  if (input === '') return VALIDATION_REASON.empty;
  if (!input.startsWith(SCHEME_PREFIX)) return VALIDATION_REASON.wrongScheme;
  let pathStart = SCHEME_PREFIX.length;
  for (; pathStart < input.length; pathStart++) {
    const c = input.charCodeAt(pathStart);
    if (c === 0x2f) break;
    if (!isTrustDomainChar(c)) return VALIDATION_REASON.badTrustDomainChar;
  }
  if (pathStart === SCHEME_PREFIX.length) return VALIDATION_REASON.missingTrustDomain;
  const path = input.slice(pathStart);
  const reason = pathReason(path);
  if (reason !== undefined) return reason;
  // Everything accepted so far is ASCII, so string length is byte length (§2.3).
  if (pathStart - SCHEME_PREFIX.length > MAX_TRUST_DOMAIN_BYTES) {
    return VALIDATION_REASON.trustDomainTooLong;
  }
  if (input.length > MAX_SPIFFE_ID_BYTES) return VALIDATION_REASON.idTooLong;
  return { trustDomain: input.slice(SCHEME_PREFIX.length, pathStart), path };
}

/** Why `name` is not a bare trust domain name, or `undefined` when it is one. */
export function trustDomainNameReason(name: string): ValidationReason | undefined {
  if (name === '') return VALIDATION_REASON.missingTrustDomain;
  for (let i = 0; i < name.length; i++) {
    if (!isTrustDomainChar(name.charCodeAt(i))) return VALIDATION_REASON.badTrustDomainChar;
  }
  if (name.length > MAX_TRUST_DOMAIN_BYTES) return VALIDATION_REASON.trustDomainTooLong;
  return undefined;
}
