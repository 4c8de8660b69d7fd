// Signing a report with a detached JWS (RFC 7515 Appendix F) and verifying it against a JWKS.
import {
  base64url,
  compactVerify,
  createLocalJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
} from 'jose';
import { canonicalReport, type ComplianceReport } from './compliance-report.js';

/**
 * Whatever holds the signing key (the audit checkpoint key): signs a payload as a JWS Compact
 * Serialization (RFC 7515 §7.1) whose protected header carries `alg` and `kid`.
 */
export interface ReportSigner {
  signCompact(payload: Uint8Array): Promise<string>;
}

/** Algorithms a report signature may use (asymmetric only: the verifier holds no secret). */
export const REPORT_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'PS384', 'RS256', 'EdDSA'];

/** Why a report's signature was not accepted. */
export class ReportSignatureError extends Error {
  constructor(
    readonly code: 'unsigned' | 'malformed' | 'unknown-key' | 'bad-signature',
    message: string,
  ) {
    super(message);
  }
}

/** The report with `signature`: a detached JWS over {@link canonicalReport}. */
export async function signReport(
  report: ComplianceReport,
  signer: ReportSigner,
): Promise<ComplianceReport> {
  const compact = await signer.signCompact(canonicalReport(report));
  const [header, , signature] = compact.split('.');
  const { alg, kid } = decodeProtectedHeader(compact);
  if (header === undefined || signature === undefined || typeof kid !== 'string' || !alg) {
    throw new TypeError('the report signer returned no compact JWS with alg and kid');
  }
  // RFC 7515 Appendix F: the payload part is left empty; the verifier recomputes it.
  return { ...report, signature: { jws: `${header}..${signature}`, kid, alg } };
}

/**
 * Checks a report's detached JWS against a key set (`GET /v1/audit/keys`, or a copy of it).
 * @returns the signing key's id and algorithm.
 * @throws ReportSignatureError
 */
export async function verifyReport(
  report: ComplianceReport,
  keys: JSONWebKeySet,
): Promise<{ kid: string; alg: string }> {
  const signature = report.signature;
  if (signature === undefined)
    throw new ReportSignatureError('unsigned', 'the report carries no signature');
  const parts = typeof signature.jws === 'string' ? signature.jws.split('.') : [];
  if (parts.length !== 3 || parts[1] !== '') {
    throw new ReportSignatureError('malformed', 'the signature is not a detached compact JWS');
  }
  const payload = base64url.encode(canonicalReport(report));
  const compact = `${parts[0]}.${payload}.${parts[2]}`;
  let header;
  try {
    header = decodeProtectedHeader(compact);
  } catch {
    throw new ReportSignatureError('malformed', 'the JWS header cannot be decoded');
  }
  if (header.b64 !== undefined || header.crit !== undefined) {
    throw new ReportSignatureError(
      'malformed',
      'the JWS header asks for extensions (b64, crit) reports do not use',
    );
  }
  try {
    const result = await compactVerify(compact, createLocalJWKSet(keys), {
      algorithms: REPORT_ALGORITHMS,
    });
    return { kid: String(result.protectedHeader.kid), alg: result.protectedHeader.alg };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') {
      throw new ReportSignatureError('unknown-key', `no key ${String(header.kid)} in the key set`);
    }
    throw new ReportSignatureError(
      'bad-signature',
      'the signature does not match the report: it was changed after signing, or signed by another key',
    );
  }
}
