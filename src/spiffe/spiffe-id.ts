// SPIFFE IDs: the validated `spiffe://<trust domain>/<path>` names every workload identity uses.
import { validatePath, validatePathSegment } from './spiffe-path.js';
import { scanSpiffeId, type SpiffeIdParts } from './spiffe-id-syntax.js';
import { parseTrustDomain } from './trust-domain.js';
import { rejection } from './validation-reason.js';

/** A SPIFFE ID that has passed validation. `toString()` gives the URI form. */
export interface SpiffeId {
  /** The trust domain name, e.g. `hallmark.local`. */
  readonly trustDomain: string;
  /** The path, `""` or `/segment/...`; never percent-decoded. */
  readonly path: string;
  /** The ID as a URI, e.g. `spiffe://hallmark.local/ns/payments/sa/api`. */
  toString(): string;
}

/**
 * The path of the Hallmark server's own SPIFFE ID (`spiffe://<td>/hallmark/server`, the URI
 * SAN of its serving certificate). The policy keeps the whole `/hallmark` tree out of reach of
 * registrations, so no workload can be issued the server's identity.
 */
export const SERVER_SPIFFE_PATH = '/hallmark/server';

// Instances are only made from validated parts, so holding one proves validity.
class ValidSpiffeId implements SpiffeId {
  readonly trustDomain: string;
  readonly path: string;
  readonly #uri: string;

  constructor(parts: SpiffeIdParts, uri: string) {
    this.trustDomain = parts.trustDomain;
    this.path = parts.path;
    this.#uri = uri;
    Object.freeze(this);
  }

  toString(): string {
    return this.#uri;
  }

  // Logs and JSON bodies should show the URI, not the two fields.
  toJSON(): string {
    return this.#uri;
  }
}

/**
 * Parses and validates a SPIFFE ID exactly per the SPIFFE-ID spec: scheme `spiffe`
 * (case-sensitive), trust domain `[a-z0-9._-]` of at most 255 bytes, path segments
 * `[a-zA-Z0-9._-]` with no empty, `.` or `..` segments and no trailing slash, no userinfo,
 * port, query or fragment, at most 2048 bytes in all. Percent-encoding is not decoded.
 *
 * @throws HallmarkError `ERR_SPIFFE_ID_INVALID` whose message is go-spiffe's wording,
 *   e.g. `path cannot contain dot segments`.
 * @see SPIFFE-ID §2
 */
export function parseSpiffeId(input: string): SpiffeId {
  const parts = scanSpiffeId(input);
  if (typeof parts === 'string')
    throw rejection('ERR_SPIFFE_ID_INVALID', 'SPIFFE ID', input, parts);
  return new ValidSpiffeId(parts, input);
}

/**
 * Builds the SPIFFE ID with `path` (`""` or `/a/b`) in `trustDomain` (a bare name or
 * `spiffe://` form).
 *
 * @throws HallmarkError `ERR_SPIFFE_TRUST_DOMAIN_INVALID` for the trust domain,
 *   `ERR_SPIFFE_ID_INVALID` for the path or the total length.
 */
export function spiffeIdFromPath(trustDomain: string, path: string): SpiffeId {
  const name = parseTrustDomain(trustDomain);
  // The path is checked on its own first: joined, "ns/a" would silently extend the trust
  // domain. Rescanning the joined string then applies the 2048-byte limit.
  validatePath(path);
  return parseSpiffeId(`spiffe://${name}${path}`);
}

/**
 * The SPIFFE ID of a Kubernetes workload, `spiffe://<td>/ns/<namespace>/sa/<serviceAccount>`,
 * the convention of Istio, SPIRE and csi-driver-spiffe. Each name must be a valid segment.
 *
 * @throws HallmarkError `ERR_SPIFFE_TRUST_DOMAIN_INVALID` or `ERR_SPIFFE_ID_INVALID`.
 */
export function workloadSpiffeId(
  trustDomain: string,
  namespace: string,
  serviceAccount: string,
): SpiffeId {
  // Segments are checked on their own first, so a "/" inside a name cannot add segments.
  validatePathSegment(namespace);
  validatePathSegment(serviceAccount);
  return spiffeIdFromPath(trustDomain, `/ns/${namespace}/sa/${serviceAccount}`);
}

/**
 * True when `id` belongs to the trust domain named `trustDomain` (a bare name, compared
 * exactly; trust domain names are lowercase by construction).
 */
export function isMemberOf(id: SpiffeId, trustDomain: string): boolean {
  return id.trustDomain === trustDomain;
}
