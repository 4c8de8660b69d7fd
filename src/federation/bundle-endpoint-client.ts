// Fetching a foreign bundle endpoint over HTTPS, authenticated per its profile (https_web:
// Web PKI and the URL's host; https_spiffe: an X509-SVID for the pinned SPIFFE ID).
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { rootCertificates, type PeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { Clock } from '../clock/index.js';
import { HallmarkError, isHallmarkError } from '../errors/index.js';
import { validateX509Svid } from '../x509/index.js';

/** How an endpoint proves who it is. @see SPIFFE Federation §5.2 */
export type EndpointProfile =
  | {
      readonly kind: 'https_web';
      /** PEM roots trusted besides the system's public ones (`HALLMARK_FEDERATION_WEB_CA`). */
      readonly extraRootsPem?: readonly string[];
    }
  | {
      readonly kind: 'https_spiffe';
      /** The SPIFFE ID the endpoint's X509-SVID must carry, exactly. */
      readonly endpointSpiffeId: string;
      /** PEM X.509 authorities of the endpoint's trust domain (bootstrap, then the last good). */
      readonly authoritiesPem: readonly string[];
    };

/** One fetch of a bundle endpoint. */
export interface BundleFetch {
  readonly url: string;
  readonly profile: EndpointProfile;
  readonly clock: Clock;
  /** Connect to last byte, redirects included (default 10 s). */
  readonly timeoutMs?: number;
  /** Largest body accepted (default 1 MiB). */
  readonly maxBytes?: number;
  /** Aborts the fetch (the server is stopping). */
  readonly signal?: AbortSignal;
}

const MAX_REDIRECTS = 3;
const TLS_FAILURE =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/;

/** The server certificate did not satisfy the profile; raised inside the TLS handshake. */
class ProfileMismatch extends Error {
  readonly code = 'ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED';
}

/**
 * A bundle endpoint URL: `https`, no userinfo (Federation §5.2.1.1, §5.2.2.1), no fragment.
 * @returns the reason it is not one, or `undefined`.
 */
export function bundleEndpointUrlReason(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol !== 'https:') return 'must be an https:// URL';
  if (parsed.username !== '' || parsed.password !== '') return 'must not carry a user or password';
  if (parsed.hash !== '' || url.includes('#')) return 'must not have a fragment';
  return undefined;
}

/** The peer's chain as PEM, leaf first, as the TLS stack received it. */
function chainOf(leaf: PeerCertificate & { issuerCertificate?: PeerCertificate }): string[] {
  const pems: string[] = [];
  const seen = new Set<string>();
  let cert: (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined = leaf;
  while (cert?.raw !== undefined && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    pems.push(new X509Certificate(cert.raw).toString());
    cert = cert.issuerCertificate;
  }
  return pems;
}

/**
 * https_spiffe: the server certificate must be a valid X509-SVID that chains to the peer's
 * authorities and names exactly the configured SPIFFE ID (Federation §5.2.2.4). Called by the
 * TLS stack after it verified the chain against the same authorities; host names do not count.
 */
function spiffeIdentityCheck(
  profile: Extract<EndpointProfile, { kind: 'https_spiffe' }>,
  clock: Clock,
): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    try {
      const svid = validateX509Svid(chainOf(cert), profile.authoritiesPem, clock);
      const id = svid.spiffeId.toString();
      if (id !== profile.endpointSpiffeId) {
        return new ProfileMismatch(
          `the endpoint presents ${id.slice(0, 300)}, not ${profile.endpointSpiffeId}`,
        );
      }
      return undefined;
    } catch (err) {
      const detail = isHallmarkError(err) ? (err.detail ?? err.message) : String(err);
      return new ProfileMismatch(`the endpoint's certificate is not a valid X509-SVID: ${detail}`);
    }
  };
}

function failure(err: unknown, url: string): HallmarkError {
  if (isHallmarkError(err)) return err;
  const code = (err as { code?: unknown })?.code;
  const message = (err as Error)?.message ?? String(err);
  if (err instanceof ProfileMismatch || (typeof code === 'string' && TLS_FAILURE.test(code))) {
    return new HallmarkError('ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED', {
      detail: `${url}: ${err instanceof ProfileMismatch ? message : `TLS: ${String(code)}`}`,
      cause: err,
    });
  }
  return new HallmarkError('ERR_FEDERATION_ENDPOINT_UNREACHABLE', {
    detail: `${url}: ${typeof code === 'string' ? code : message}`,
    cause: err,
  });
}

/** One GET; resolves with the response (body unread) or rejects with the transport error. */
function get(url: string, fetch: BundleFetch, signal: AbortSignal): Promise<IncomingMessage> {
  const { profile } = fetch;
  const tls =
    profile.kind === 'https_spiffe'
      ? {
          ca: [...profile.authoritiesPem],
          checkServerIdentity: spiffeIdentityCheck(profile, fetch.clock),
        }
      : profile.extraRootsPem !== undefined && profile.extraRootsPem.length > 0
        ? { ca: [...rootCertificates, ...profile.extraRootsPem] }
        : {};
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      // A fresh connection each time: no TLS session resumption skips the identity check.
      agent: false,
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
      headers: { accept: 'application/json' },
      signal,
      ...tls,
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}

async function readBody(response: IncomingMessage, maxBytes: number, url: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      response.destroy();
      throw new HallmarkError('ERR_FEDERATION_BUNDLE_MALFORMED', {
        detail: `${url}: larger than ${maxBytes} bytes`,
      });
    }
    chunks.push(chunk as Buffer);
  }
  try {
    // §5.2.1.3: the bundle MUST be encoded as UTF-8.
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HallmarkError('ERR_FEDERATION_BUNDLE_MALFORMED', { detail: `${url}: not UTF-8` });
  }
}

/**
 * GETs a bundle endpoint and returns the body, authenticating the server per its profile.
 * Temporary and permanent redirects alike are followed (at most 3) to https URLs, with the same
 * checks, and never remembered (Federation §5.2.1.4, §7.5.1).
 * @throws HallmarkError ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED (the certificate does not match
 *   the profile), ERR_FEDERATION_ENDPOINT_UNREACHABLE (network, timeout, status other than
 *   200), ERR_FEDERATION_BUNDLE_MALFORMED (too large, not UTF-8).
 */
export async function fetchBundleDocument(fetch: BundleFetch): Promise<string> {
  const maxBytes = fetch.maxBytes ?? 1_048_576;
  const timeout = AbortSignal.timeout(fetch.timeoutMs ?? 10_000);
  const signal = fetch.signal === undefined ? timeout : AbortSignal.any([timeout, fetch.signal]);
  let url = fetch.url;
  for (let hop = 0; ; hop++) {
    let response: IncomingMessage;
    try {
      response = await get(url, fetch, signal);
    } catch (err) {
      throw failure(err, url);
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location !== undefined) {
      response.resume();
      const next = new URL(location, url).toString();
      const reason = bundleEndpointUrlReason(next);
      if (hop >= MAX_REDIRECTS || reason !== undefined) {
        throw new HallmarkError('ERR_FEDERATION_ENDPOINT_UNREACHABLE', {
          detail: `${url}: redirect to ${next.slice(0, 300)} ${reason ?? 'is one too many'}`,
        });
      }
      url = next;
      continue;
    }
    if (status !== 200) {
      response.resume();
      throw new HallmarkError('ERR_FEDERATION_ENDPOINT_UNREACHABLE', {
        detail: `${url}: HTTP ${status}`,
      });
    }
    try {
      return await readBody(response, maxBytes, url);
    } catch (err) {
      throw failure(err, url);
    }
  }
}
