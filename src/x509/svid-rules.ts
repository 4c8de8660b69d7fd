// The X509-SVID rules as pure checks over a parsed certificate: what a leaf and a signing CA must be.
import { isHallmarkError } from '../errors/index.js';
import { parseSpiffeId } from '../spiffe/index.js';
import type { SpiffeId } from '../spiffe/index.js';
import { EMPTY_NAME_DER } from './distinguished-name.js';
import { KEY_USAGE } from './extension-builder.js';
import { OID } from './oids.js';
import type { ParsedCertificate } from './parsed-certificate.js';

/** Extensions whose meaning validation understands; any other critical one fails it. */
const UNDERSTOOD = new Set<string>([
  OID.subjectAltName,
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
]);

/** A leaf that passed {@link checkLeafSvid}. */
export interface LeafVerdict {
  readonly spiffeId: SpiffeId;
}

/** Thrown by the rule checks; callers turn it into their error code. */
export class SvidRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SvidRuleError';
  }
}

/**
 * Checks the X509-SVID leaf rules:
 * - exactly one URI SAN, a valid SPIFFE ID with a non-root path (§2, §3.1, §5.2);
 * - subjectAltName critical when the subject is empty (§3.1; RFC 5280 §4.2.1.6);
 * - cA not true (§4.1, §5.2);
 * - keyUsage present and critical, digitalSignature set, keyCertSign and cRLSign clear (§4.3, §5.2);
 * - extKeyUsage, when present, lists serverAuth and clientAuth (§4.4);
 * - no critical extension we do not understand (RFC 5280 §4.2).
 * @throws SvidRuleError naming the first rule broken.
 * @see SPIFFE X509-SVID
 */
export function checkLeafSvid(cert: ParsedCertificate): LeafVerdict {
  const ext = cert.extensions;
  rejectUnknownCritical(cert);
  const san = ext.subjectAltName;
  if (san === undefined || san.uris.length !== 1) {
    throw new SvidRuleError('leaf must have exactly one URI SAN');
  }
  let spiffeId: SpiffeId;
  try {
    spiffeId = parseSpiffeId(san.uris[0]!);
  } catch (err) {
    if (isHallmarkError(err)) throw new SvidRuleError(`URI SAN is not a SPIFFE ID: ${err.message}`);
    throw err;
  }
  if (spiffeId.path === '') throw new SvidRuleError('leaf SPIFFE ID must have a path');
  if (cert.subjectDer.equals(EMPTY_NAME_DER) && !san.critical) {
    throw new SvidRuleError('subjectAltName must be critical when the subject is empty');
  }
  if (ext.basicConstraints?.ca === true) throw new SvidRuleError('leaf must not be a CA');
  const ku = ext.keyUsage;
  if (ku === undefined || !ku.critical)
    throw new SvidRuleError('keyUsage must be present and critical');
  if (!(ku.bits & (1 << KEY_USAGE.digitalSignature))) {
    throw new SvidRuleError('keyUsage must include digitalSignature');
  }
  if (ku.bits & ((1 << KEY_USAGE.keyCertSign) | (1 << KEY_USAGE.cRLSign))) {
    throw new SvidRuleError('leaf keyUsage must not include keyCertSign or cRLSign');
  }
  const eku = ext.extKeyUsage;
  if (eku !== undefined && !(eku.includes(OID.serverAuth) && eku.includes(OID.clientAuth))) {
    throw new SvidRuleError('extKeyUsage must include serverAuth and clientAuth');
  }
  return { spiffeId };
}

/**
 * Checks that a certificate may sign others in an SVID chain: basicConstraints cA true,
 * keyUsage (when present) with keyCertSign, a SPIFFE ID without a path if it carries one,
 * and no name constraints — URI name constraints are not evaluated here, so a certificate
 * relying on them is refused rather than half-checked.
 * @throws SvidRuleError
 * @see SPIFFE X509-SVID §3.2, §4.1, §4.2, §4.3; RFC 5280 §4.2.1.9
 */
export function checkSigningCertificate(cert: ParsedCertificate): void {
  const ext = cert.extensions;
  if (ext.all.has(OID.nameConstraints)) {
    throw new SvidRuleError('name constraints are not supported');
  }
  rejectUnknownCritical(cert);
  checkCanSignCertificates(cert);
  const uris = ext.subjectAltName?.uris ?? [];
  for (const uri of uris) {
    if (!uri.startsWith('spiffe:')) continue;
    let id: SpiffeId;
    try {
      id = parseSpiffeId(uri);
    } catch {
      throw new SvidRuleError('signing certificate URI SAN is not a valid SPIFFE ID');
    }
    if (id.path !== '')
      throw new SvidRuleError('signing certificate SPIFFE ID must not have a path');
  }
}

/**
 * Checks only what signing needs: basicConstraints cA true and, when keyUsage is present,
 * keyCertSign. Used for our own and operator-supplied CAs, whose other extensions (name
 * constraints, policies) are for relying parties to evaluate.
 * @throws SvidRuleError
 * @see RFC 5280 §4.2.1.3, §4.2.1.9
 */
export function checkCanSignCertificates(cert: ParsedCertificate): void {
  const ext = cert.extensions;
  if (ext.basicConstraints?.ca !== true)
    throw new SvidRuleError('signing certificate must be a CA');
  if (ext.keyUsage !== undefined && !(ext.keyUsage.bits & (1 << KEY_USAGE.keyCertSign))) {
    throw new SvidRuleError('signing certificate keyUsage must include keyCertSign');
  }
}

function rejectUnknownCritical(cert: ParsedCertificate): void {
  for (const [id, ext] of cert.extensions.all) {
    if (ext.critical && !UNDERSTOOD.has(id)) {
      throw new SvidRuleError(`unsupported critical extension ${id}`);
    }
  }
}
