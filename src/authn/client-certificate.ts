// The client certificate of a mutual-TLS request, checked as an X509-SVID of this trust domain.
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Clock } from '../clock/index.js';
import { HallmarkError, isHallmarkError } from '../errors/index.js';
import { isMemberOf } from '../spiffe/index.js';
import { validateX509Svid, type VerifiedX509Svid } from '../x509/index.js';
import {
  distrustedIssuerOf,
  distrustedSvidError,
  type DistrustedIssuers,
} from './distrusted-issuers.js';
import { SvidValidationCache } from './svid-validation-cache.js';

/** What the check needs: the current bundle, the trust domain and the clock. */
export interface ClientSvidContext {
  /** PEM trust anchors of the current SPIFFE bundle (the CA's `bundle().certificatesPem`). */
  bundle(): readonly string[];
  readonly trustDomain: string;
  readonly clock: Clock;
  /** Remembers successful validations (optional; the service keeps one). */
  readonly cache?: SvidValidationCache;
  /** CAs an operator distrusted: their SVIDs are refused before any cache is consulted. */
  readonly distrusted?: DistrustedIssuers;
}

/** Leaf plus at most this many certificates above it are looked at. */
const MAX_CHAIN = 6;

/**
 * The leaf and every certificate linked above it on the socket, the root included. Read from
 * the socket's own parsed certificates (`getPeerX509Certificate`): building
 * `getPeerCertificate(true)`'s object tree and parsing each DER again cost a third of a login.
 */
function peerCertificates(leaf: X509Certificate): X509Certificate[] {
  const certificates = [leaf];
  let current = leaf;
  while (certificates.length < MAX_CHAIN) {
    const issuer = current.issuerCertificate;
    // A self-signed certificate is its own issuer; that is where the chain ends.
    if (issuer === undefined || issuer.raw.equals(current.raw)) break;
    certificates.push(issuer);
    current = issuer;
  }
  return certificates;
}

/** The presented chain as PEM, leaf first, without the self-signed root if the peer sent one. */
function presentedChain(certificates: readonly X509Certificate[]): string[] {
  const chain: string[] = [];
  for (const [index, certificate] of certificates.entries()) {
    if (index > 0 && certificate.checkIssued(certificate)) break;
    chain.push(certificate.toString());
  }
  return chain;
}

/** The same trust anchors in the same order (the CA keeps its array until the CAs change). */
function sameBundle(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  return a.length === b.length && a.every((pem, index) => pem === b[index]);
}

/** Path validation of the presented chain against `bundle`, through the result cache if any. */
function validatedSvid(
  certificates: readonly X509Certificate[],
  bundle: readonly string[],
  context: ClientSvidContext,
  now: number,
): VerifiedX509Svid {
  const chain = presentedChain(certificates);
  const key = context.cache === undefined ? undefined : SvidValidationCache.keyOf(chain, bundle);
  let svid = key === undefined ? undefined : context.cache?.get(key, now);
  if (svid === undefined) {
    try {
      svid = validateX509Svid(chain, bundle, context.clock);
    } catch (err) {
      if (!isHallmarkError(err)) throw err;
      throw new HallmarkError('ERR_AUTHN_CLIENT_CERT_INVALID', {
        detail: `not a valid X509-SVID: ${err.detail ?? err.message}`,
        cause: err,
      });
    }
    if (key !== undefined) context.cache?.set(key, svid);
  }
  return svid;
}

/**
 * Checks the client certificate of `socket`:
 * - one was presented (else `ERR_AUTHN_CLIENT_CERT_REQUIRED`);
 * - it was not signed by a distrusted CA (else `ERR_AUTHN_CA_DISTRUSTED`, so the holder knows
 *   to obtain a new SVID rather than retry);
 * - TLS verified it against the current bundle (the listener's client CA list is swapped on
 *   every bundle change), which refuses self-signed certificates, CAs removed from the
 *   bundle and expired certificates;
 * - it is an X509-SVID (one URI SAN holding a SPIFFE ID, cA false, keyUsage per the spec)
 *   with a valid path to the current bundle at the injected clock's time;
 * - its SPIFFE ID is in this trust domain.
 * With a cache, a connection's later requests reuse its handshake's parsed certificates and,
 * while the bundle is unchanged and the leaf within its validity, the path validation; every
 * check above still runs on every request.
 * @throws HallmarkError ERR_AUTHN_CLIENT_CERT_REQUIRED, ERR_AUTHN_CA_DISTRUSTED,
 *   ERR_AUTHN_CLIENT_CERT_INVALID (reason in `detail`).
 * @see SPIFFE X509-SVID §5 (validation)
 */
export function verifiedClientSvid(
  socket: TLSSocket,
  context: ClientSvidContext,
): VerifiedX509Svid {
  const finished = context.cache === undefined ? undefined : socket.getFinished();
  const seen = finished === undefined ? undefined : context.cache?.ofHandshake(socket, finished);
  let certificates = seen?.certificates;
  if (certificates === undefined) {
    const leaf = socket.getPeerX509Certificate();
    if (leaf === undefined) {
      throw new HallmarkError('ERR_AUTHN_CLIENT_CERT_REQUIRED', {
        detail: 'no client certificate presented',
      });
    }
    certificates = peerCertificates(leaf);
  }
  const distrusted = context.distrusted?.() ?? [];
  if (distrusted.length > 0) {
    const issuer = distrustedIssuerOf(certificates, distrusted);
    if (issuer !== undefined) {
      throw distrustedSvidError(
        issuer.id,
        (certificates[0] as X509Certificate).serialNumber.toLowerCase(),
      );
    }
  }
  if (!socket.authorized) {
    throw new HallmarkError('ERR_AUTHN_CLIENT_CERT_INVALID', {
      detail: `TLS verification failed: ${String(socket.authorizationError ?? 'unknown')}`,
    });
  }
  const bundle = context.bundle();
  const now = context.clock.now();
  let svid =
    seen !== undefined &&
    sameBundle(seen.bundle, bundle) &&
    SvidValidationCache.isCurrent(seen.svid, now)
      ? seen.svid
      : undefined;
  if (svid === undefined) {
    svid = validatedSvid(certificates, bundle, context, now);
    if (finished !== undefined) {
      context.cache?.rememberHandshake(socket, { finished, certificates, bundle, svid });
    }
  }
  if (!isMemberOf(svid.spiffeId, context.trustDomain)) {
    throw new HallmarkError('ERR_AUTHN_CLIENT_CERT_INVALID', {
      detail: `SPIFFE ID ${svid.spiffeId.toString()} is not in trust domain ${context.trustDomain}`,
    });
  }
  return svid;
}
