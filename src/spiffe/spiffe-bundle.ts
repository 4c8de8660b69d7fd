// A SPIFFE bundle (a trust domain's JWK Set) read strictly, and written back in canonical form
// (only the members each key needs), pure.
import { X509Certificate, createPublicKey } from 'node:crypto';
import { HallmarkError } from '../errors/index.js';

/** One JWT authority of a bundle: its `kid` and public JWK members. */
export interface BundleJwtAuthority {
  readonly kid: string;
  readonly kty: 'EC' | 'RSA';
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
}

/** A bundle as Hallmark keeps and delivers it. */
export interface SpiffeBundle {
  /** `spiffe_sequence`; `undefined` when the publisher omits it (or for a bootstrap bundle). */
  readonly sequence: number | undefined;
  /** `spiffe_refresh_hint` in seconds, when set. */
  readonly refreshHintSeconds: number | undefined;
  /** DER of each X.509 authority (the `x509-svid` entries' certificates), in document order. */
  readonly x509Authorities: readonly Buffer[];
  readonly jwtAuthorities: readonly BundleJwtAuthority[];
}

/** Most keys a bundle may hold: far above any real trust domain, low enough to bound the work. */
const MAX_KEYS = 256;
const EC_CURVES = new Set(['P-256', 'P-384', 'P-521']);
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function malformed(detail: string): HallmarkError {
  return new HallmarkError('ERR_FEDERATION_BUNDLE_MALFORMED', { detail });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalInteger(
  doc: Record<string, unknown>,
  name: string,
  min: number,
): number | undefined {
  const value = doc[name];
  if (value === undefined) return undefined;
  // JSON numbers above 2^53 lose precision in JavaScript: refused rather than rounded.
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw malformed(`${name} must be an integer of at least ${min}`);
  }
  return value;
}

function base64urlMember(key: Record<string, unknown>, name: string, index: number): string {
  const value = key[name];
  if (typeof value !== 'string' || !BASE64URL.test(value)) {
    throw malformed(`keys[${index}].${name} must be base64url`);
  }
  return value;
}

/** The public key members of a certificate's key, as JWK members. */
function keyMembersOf(certificate: X509Certificate): Record<string, string> {
  const jwk = certificate.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const members: Record<string, string> = { kty: jwk['kty'] as string };
  for (const name of ['crv', 'x', 'y', 'n', 'e'] as const) {
    if (jwk[name] !== undefined) members[name] = jwk[name];
  }
  return members;
}

/**
 * An `x509-svid` entry: `x5c` holds exactly one base64 DER CA certificate (X509-SVID §6.1;
 * go-spiffe refuses any other count), and the JWK's key members, when present, are that
 * certificate's key (RFC 7517 §4.7).
 */
function readX509Entry(key: Record<string, unknown>, index: number): Buffer {
  const x5c = key['x5c'];
  if (!Array.isArray(x5c) || x5c.length !== 1 || typeof x5c[0] !== 'string') {
    throw malformed(`keys[${index}].x5c must hold exactly one certificate`);
  }
  if (!BASE64.test(x5c[0])) throw malformed(`keys[${index}].x5c[0] is not base64`);
  const der = Buffer.from(x5c[0], 'base64');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch {
    throw malformed(`keys[${index}].x5c[0] is not a DER certificate`);
  }
  if (!certificate.ca) throw malformed(`keys[${index}].x5c[0] is not a CA certificate`);
  for (const [name, value] of Object.entries(keyMembersOf(certificate))) {
    if (key[name] !== undefined && key[name] !== value) {
      throw malformed(`keys[${index}].${name} does not match the certificate's key`);
    }
  }
  return der;
}

/**
 * A `jwt-svid` entry: a non-empty `kid` (JWT-SVID §6.1) and the public members of an EC or
 * RSA key that node:crypto accepts. Other key types are skipped by the caller (bundle §4.2.1).
 */
function readJwtEntry(key: Record<string, unknown>, index: number): BundleJwtAuthority {
  const kid = key['kid'];
  if (typeof kid !== 'string' || kid === '' || kid.length > 256) {
    throw malformed(`keys[${index}].kid must be a non-empty string`);
  }
  let authority: BundleJwtAuthority;
  if (key['kty'] === 'EC') {
    const crv = key['crv'];
    if (typeof crv !== 'string' || !EC_CURVES.has(crv)) {
      throw malformed(`keys[${index}].crv must be P-256, P-384 or P-521`);
    }
    const x = base64urlMember(key, 'x', index);
    const y = base64urlMember(key, 'y', index);
    authority = { kid, kty: 'EC', crv, x, y };
  } else {
    const n = base64urlMember(key, 'n', index);
    const e = base64urlMember(key, 'e', index);
    authority = { kid, kty: 'RSA', n, e };
  }
  let bits: number | undefined;
  try {
    const { kid: _kid, ...jwk } = authority;
    bits = createPublicKey({ key: jwk, format: 'jwk' }).asymmetricKeyDetails?.modulusLength;
  } catch {
    throw malformed(`keys[${index}] is not a usable ${authority.kty} public key`);
  }
  // RFC 7518 §3.3: RSA keys for RS/PS signatures are at least 2048 bits.
  if (authority.kty === 'RSA' && (bits === undefined || bits < 2048)) {
    throw malformed(`keys[${index}] is an RSA key shorter than 2048 bits`);
  }
  if (key['d'] !== undefined || key['p'] !== undefined) {
    throw malformed(`keys[${index}] carries private key members`);
  }
  return authority;
}

/**
 * Parses a SPIFFE bundle (a JWK Set with `spiffe_sequence` and `spiffe_refresh_hint`, SPIFFE
 * Trust Domain and Bundle §4): `keys` is required (§4.1.3); entries whose `kty` or `use` is
 * unknown are ignored, as §4.2.1 and §4.2.2 require; every entry Hallmark would use must be
 * complete and well-formed, or the whole document is refused — half a bundle is never kept.
 * A bundle without any X.509 or JWT authority is refused too: it would distrust everything.
 * @throws HallmarkError ERR_FEDERATION_BUNDLE_MALFORMED, the reason in `detail`.
 */
export function parseSpiffeBundle(text: string): SpiffeBundle {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('not JSON');
  }
  if (!isObject(doc)) throw malformed('not a JSON object');
  const keys = doc['keys'];
  if (!Array.isArray(keys)) throw malformed('keys must be a list'); // §4.1.3
  if (keys.length > MAX_KEYS) throw malformed(`more than ${MAX_KEYS} keys`);
  const sequence = optionalInteger(doc, 'spiffe_sequence', 0); // §4.1.1
  const refreshHintSeconds = optionalInteger(doc, 'spiffe_refresh_hint', 1); // §4.1.2
  const x509Authorities: Buffer[] = [];
  const jwtAuthorities: BundleJwtAuthority[] = [];
  keys.forEach((key: unknown, index) => {
    if (!isObject(key)) throw malformed(`keys[${index}] is not an object`);
    if (typeof key['kty'] !== 'string') throw malformed(`keys[${index}].kty is required`);
    if (typeof key['use'] !== 'string') throw malformed(`keys[${index}].use is required`);
    if (key['use'] === 'x509-svid') {
      const der = readX509Entry(key, index);
      if (!x509Authorities.some((known) => known.equals(der))) x509Authorities.push(der);
    } else if (key['use'] === 'jwt-svid' && (key['kty'] === 'EC' || key['kty'] === 'RSA')) {
      const authority = readJwtEntry(key, index);
      if (jwtAuthorities.some((known) => known.kid === authority.kid)) {
        throw malformed(`keys[${index}].kid "${authority.kid}" is not unique`);
      }
      jwtAuthorities.push(authority);
    }
  });
  if (x509Authorities.length === 0 && jwtAuthorities.length === 0) {
    throw malformed('no x509-svid or jwt-svid authority');
  }
  return { sequence, refreshHintSeconds, x509Authorities, jwtAuthorities };
}

/**
 * The bundle as a SPIFFE bundle document again, rebuilt from the members Hallmark read (so
 * nothing else the publisher sent reaches workloads): `x509-svid` entries with one `x5c` and
 * no `kid` (X509-SVID §6.1), `jwt-svid` entries with their `kid` (JWT-SVID §6.1).
 */
export function bundleDocumentOf(bundle: SpiffeBundle): Record<string, unknown> {
  const keys = [
    ...bundle.x509Authorities.map((der) => ({
      ...keyMembersOf(new X509Certificate(der)),
      use: 'x509-svid',
      x5c: [der.toString('base64')],
    })),
    ...bundle.jwtAuthorities.map(({ kid, ...members }) => ({ ...members, use: 'jwt-svid', kid })),
  ];
  return {
    keys,
    ...(bundle.sequence === undefined ? {} : { spiffe_sequence: bundle.sequence }),
    ...(bundle.refreshHintSeconds === undefined
      ? {}
      : { spiffe_refresh_hint: bundle.refreshHintSeconds }),
  };
}

/** True when two bundles hold the same authorities (sequence and hint aside), in any order. */
export function sameAuthorities(a: SpiffeBundle, b: SpiffeBundle): boolean {
  const fingerprint = (bundle: SpiffeBundle): string =>
    JSON.stringify([
      bundle.x509Authorities.map((der) => der.toString('base64')).sort(),
      bundle.jwtAuthorities.map((key) => JSON.stringify(key)).sort(),
    ]);
  return fingerprint(a) === fingerprint(b);
}

/** The X.509 authorities as PEM, one certificate after another (`federated/<td>.pem`). */
export function x509AuthoritiesPem(bundle: SpiffeBundle): string {
  return bundle.x509Authorities.map((der) => new X509Certificate(der).toString()).join('');
}

/** Trust domains named by the `spiffe://` URI SANs of a certificate (Node's text form). */
function spiffeTrustDomainsOf(certificate: X509Certificate): string[] {
  const names = certificate.subjectAltName?.split(', ') ?? [];
  return names
    .filter((name) => name.startsWith('URI:'))
    .map((name) => name.slice(4))
    .filter((uri) => /^spiffe:/i.test(uri) || uri.startsWith('"'))
    .map((uri) => /^spiffe:\/\/([^/]+)\/?$/.exec(uri)?.[1] ?? uri);
}

/**
 * Refuses a bundle whose X.509 authorities name another trust domain: a SPIFFE CA certificate
 * carries its trust domain as the URI SAN `spiffe://<td>` (X509-SVID §3.2; an operator's
 * upstream root may carry none, and is accepted). Bundles are bound to the trust domain
 * configured for them, never to what they claim (Federation §7.3).
 * @throws HallmarkError ERR_FEDERATION_BUNDLE_TRUST_DOMAIN_MISMATCH
 */
export function checkBundleTrustDomain(bundle: SpiffeBundle, trustDomain: string): void {
  for (const der of bundle.x509Authorities) {
    for (const named of spiffeTrustDomainsOf(new X509Certificate(der))) {
      if (named !== trustDomain) {
        throw new HallmarkError('ERR_FEDERATION_BUNDLE_TRUST_DOMAIN_MISMATCH', {
          detail: `a CA certificate of the bundle names trust domain "${named.slice(0, 255)}", not "${trustDomain}"`,
        });
      }
    }
  }
}
