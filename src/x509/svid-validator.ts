// X509-SVID validation: leaf rules, then an RFC 5280 path from the leaf to a bundle root.
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock/index.js';
import { HallmarkError } from '../errors/index.js';
import type { SpiffeId } from '../spiffe/index.js';
import { serialHex } from './certificate-builder.js';
import { MalformedDerError } from './der-reader.js';
import { parseCertificate } from './parsed-certificate.js';
import type { ParsedCertificate } from './parsed-certificate.js';
import { decodeCertificates } from './pem.js';
import { verifyData } from './signature-algorithm.js';
import {
  importPublicKey,
  isRefusal,
  readSubjectPublicKey,
  spkiFingerprint,
} from './subject-public-key.js';
import { SvidRuleError, checkLeafSvid, checkSigningCertificate } from './svid-rules.js';

/** A leaf SVID that validated against a bundle. */
export interface VerifiedX509Svid {
  readonly spiffeId: SpiffeId;
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 (hex) of the leaf's SubjectPublicKeyInfo DER. */
  readonly publicKeyFingerprint: string;
  /** How many certificates the verified path has, leaf and root included. */
  readonly pathLength: number;
  /**
   * When every certificate of the verified path, root included, is within its validity: the
   * latest notBefore and the earliest notAfter on it. A kept result is current only inside it.
   */
  readonly pathNotBefore: Date;
  readonly pathNotAfter: Date;
}

/** Longest path tried: leaf, up to four intermediates, root. */
const MAX_PATH = 6;

/**
 * Validates an X509-SVID chain (leaf first, then intermediates) against `bundlePem` roots at
 * the clock's current time:
 * - the leaf obeys the X509-SVID leaf rules (one URI SAN that is a SPIFFE ID with a path,
 *   cA false, critical keyUsage with digitalSignature and neither keyCertSign nor cRLSign);
 * - a path leads from it through the given intermediates to a bundle certificate, each link
 *   matching names and key identifiers and verifying by signature, each issuer a CA
 *   (keyCertSign) within its pathLenConstraint;
 * - every certificate on the path, root included, is within its validity period.
 * The caller decides whether the SPIFFE ID's trust domain is one it serves (`isMemberOf`).
 *
 * @throws HallmarkError `ERR_X509_SVID_INVALID`, the reason in `detail`.
 * @see SPIFFE X509-SVID §5; RFC 5280 §6.1
 */
export function validateX509Svid(
  chainPem: readonly string[],
  bundlePem: readonly string[],
  clock: Clock,
): VerifiedX509Svid {
  try {
    const chain = decodeCertificates(chainPem);
    if (chain.length === 0) fail('empty chain');
    const roots = decodeCertificates(bundlePem).map(authorityEntry);
    const leaf = parseCertificate(chain[0]!);
    const { spiffeId } = checkLeafSvid(leaf);
    const intermediates = chain.slice(1).map(authorityEntry);
    const now = clock.now();
    const path = findPath(leaf, 0, intermediates, roots, now, new Set());
    if (path === undefined) fail('no valid path to a bundle certificate');
    return {
      spiffeId,
      serialHex: serialHex(leaf.serial),
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      publicKeyFingerprint: spkiFingerprint(leaf.spkiDer),
      pathLength: path.length,
      pathNotBefore: new Date(path.notBefore),
      pathNotAfter: new Date(path.notAfter),
    };
  } catch (err) {
    if (err instanceof MalformedDerError || err instanceof SvidRuleError) fail(err.message, err);
    throw err;
  }
}

interface AuthorityEntry {
  readonly cert: ParsedCertificate;
  /** `undefined` when it cannot sign in an SVID path (not a CA, unusable key...). */
  readonly publicKey: KeyObject | undefined;
}

// CA certificates repeat on every call (same bundle); parse and import each once. Bounded,
// least recently used first: a bundle holds a handful of CAs, a process sees a few bundles.
const authorityCache = new LRUCache<string, AuthorityEntry>({ max: 256 });

function authorityEntry(der: Buffer): AuthorityEntry {
  const key = createHash('sha256').update(der).digest('base64');
  const hit = authorityCache.get(key);
  if (hit !== undefined) return hit;
  const cert = parseCertificate(der);
  const entry = { cert, publicKey: signingKeyOf(cert) };
  authorityCache.set(key, entry);
  return entry;
}

// The key that verifies what `cert` signs, or `undefined` when it may not sign in an SVID
// path (not a CA, name constraints, a key type we refuse, a key node:crypto rejects).
function signingKeyOf(cert: ParsedCertificate): KeyObject | undefined {
  try {
    checkSigningCertificate(cert);
  } catch (err) {
    if (err instanceof SvidRuleError) return undefined;
    throw err;
  }
  const info = readSubjectPublicKey(cert.spkiDer);
  if (isRefusal(info)) return undefined;
  try {
    return importPublicKey(info);
  } catch {
    return undefined;
  }
}

/** A path found: its length in certificates and when all of them are valid (ms). */
interface FoundPath {
  readonly length: number;
  readonly notBefore: number;
  readonly notAfter: number;
}

/** `path` narrowed to the validity of `cert`, which is on it. */
function narrowed(path: FoundPath, cert: ParsedCertificate): FoundPath {
  return {
    length: path.length,
    notBefore: Math.max(path.notBefore, cert.notBefore.getTime()),
    notAfter: Math.min(path.notAfter, cert.notAfter.getTime()),
  };
}

/**
 * Depth-first search for an issuer path; returns its length in certificates and the window in
 * which all of them are valid. `below` counts the intermediates already between the leaf and
 * `cert` (for pathLenConstraint).
 * @see RFC 5280 §6.1.3 (basic certificate processing), §6.1.4 (k), (l) (path length)
 */
function findPath(
  cert: ParsedCertificate,
  below: number,
  intermediates: readonly AuthorityEntry[],
  roots: readonly AuthorityEntry[],
  now: number,
  visited: Set<AuthorityEntry>,
): FoundPath | undefined {
  if (!withinValidity(cert, now)) return undefined;
  if (below + 2 > MAX_PATH) return undefined;
  for (const root of roots) {
    if (issues(root, cert, below) && withinValidity(root.cert, now)) {
      const rootOnly = {
        length: below + 2,
        notBefore: root.cert.notBefore.getTime(),
        notAfter: root.cert.notAfter.getTime(),
      };
      return narrowed(rootOnly, cert);
    }
  }
  for (const next of intermediates) {
    if (visited.has(next) || !issues(next, cert, below)) continue;
    visited.add(next);
    const path = findPath(next.cert, below + 1, intermediates, roots, now, visited);
    visited.delete(next);
    if (path !== undefined) return narrowed(path, cert);
  }
  return undefined;
}

// True when `issuer` signed `cert`: names chain, key identifiers agree, the path length is
// allowed, and the signature verifies.
function issues(issuer: AuthorityEntry, cert: ParsedCertificate, below: number): boolean {
  if (issuer.publicKey === undefined) return false;
  if (!issuer.cert.subjectDer.equals(cert.issuerDer)) return false;
  const aki = cert.extensions.authorityKeyId;
  const ski = issuer.cert.extensions.subjectKeyId;
  if (aki !== undefined && ski !== undefined && !aki.equals(ski)) return false;
  const limit = issuer.cert.extensions.basicConstraints?.pathLength;
  if (limit !== undefined && below > limit) return false;
  const algorithm = cert.signatureAlgorithm;
  return (
    algorithm !== undefined && verifyData(algorithm, issuer.publicKey, cert.tbsDer, cert.signature)
  );
}

// @see RFC 5280 §4.1.2.5: valid from notBefore through notAfter, inclusive.
function withinValidity(cert: ParsedCertificate, now: number): boolean {
  return cert.notBefore.getTime() <= now && now <= cert.notAfter.getTime();
}

function fail(detail: string, cause?: unknown): never {
  throw new HallmarkError('ERR_X509_SVID_INVALID', { detail, cause });
}
