// Signing authorities: a CA certificate and key, checked and pre-digested once for fast issuance.
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { HallmarkError } from '../errors/index.js';
import { MalformedDerError } from './der-reader.js';
import { parseCertificate } from './parsed-certificate.js';
import type { ParsedCertificate } from './parsed-certificate.js';
import { decodeCertificates, encodePem } from './pem.js';
import { signingAlgorithmFor } from './signature-algorithm.js';
import type { SignatureAlgorithm } from './signature-algorithm.js';
import { describeKeyObject, isRefusal, keyIdentifier } from './subject-public-key.js';
import { SvidRuleError, checkCanSignCertificates } from './svid-rules.js';

/** A CA that can sign: its certificate, its private key and the chain above it. */
export interface SigningAuthority {
  /** The CA certificate (PEM). */
  readonly certificatePem: string;
  readonly privateKey: KeyObject;
  /** Intermediates above this CA up to, not including, the root; often empty. */
  readonly chainPem: readonly string[];
}

/** A {@link SigningAuthority} checked once and reduced to what issuance needs. */
export interface PreparedAuthority {
  readonly authority: SigningAuthority;
  readonly certificate: ParsedCertificate;
  readonly publicKey: KeyObject;
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** Key identifier for the authorityKeyIdentifier of what it signs. */
  readonly keyId: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** basicConstraints pathLenConstraint, if any. */
  readonly pathLength: number | undefined;
  /** True for a self-signed root, which relying parties hold in their bundle. */
  readonly selfSigned: boolean;
  /**
   * What follows a leaf it issues: this CA's certificate unless it is a self-signed root,
   * then `chainPem`.
   */
  readonly chainPem: readonly string[];
}

// Keyed by the private key, which stays the same object while a CA is active even when
// callers wrap it in a fresh SigningAuthority per request; the other fields are compared.
const prepared = new WeakMap<KeyObject, PreparedAuthority>();

/**
 * Checks a signing authority once — a CA certificate (cA true, keyCertSign), a supported key
 * that matches it, a parsable chain — and caches the pieces every issuance reuses: issuer
 * name, key identifier, signature algorithm, validity. Later calls with the same private key
 * object, certificate and chain return the cached result, so callers may pass a fresh
 * wrapper object each time.
 *
 * @throws HallmarkError `ERR_CA_UNAVAILABLE` with the reason in `detail`.
 */
export function prepareAuthority(
  authority: SigningAuthority | PreparedAuthority,
): PreparedAuthority {
  if (isPrepared(authority)) return authority;
  const cached = prepared.get(authority.privateKey);
  if (
    cached !== undefined &&
    cached.authority.certificatePem === authority.certificatePem &&
    sameChain(cached.authority.chainPem, authority.chainPem)
  ) {
    return cached;
  }
  const result = prepareUncached(authority);
  prepared.set(authority.privateKey, result);
  return result;
}

function isPrepared(a: SigningAuthority | PreparedAuthority): a is PreparedAuthority {
  return 'certificate' in a && 'keyId' in a;
}

function sameChain(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((pem, i) => pem === b[i]);
}

function prepareUncached(authority: SigningAuthority): PreparedAuthority {
  // Copy first: later mutation of the caller's object must not reach the cached entry.
  const snapshot: SigningAuthority = Object.freeze({
    certificatePem: authority.certificatePem,
    privateKey: authority.privateKey,
    chainPem: Object.freeze([...authority.chainPem]),
  });
  let certificate: ParsedCertificate;
  let chainDer: Buffer[];
  try {
    const ders = decodeCertificates([snapshot.certificatePem]);
    if (ders.length !== 1) throw new MalformedDerError('expected one CA certificate');
    certificate = parseCertificate(ders[0]!);
    chainDer = snapshot.chainPem.length === 0 ? [] : decodeCertificates(snapshot.chainPem);
    for (const der of chainDer) parseCertificate(der);
    checkCanSignCertificates(certificate);
  } catch (err) {
    if (err instanceof MalformedDerError || err instanceof SvidRuleError) {
      throw unavailable(`CA certificate: ${err.message}`, err);
    }
    throw err;
  }
  const privateKey = snapshot.privateKey;
  if (privateKey.type !== 'private') throw unavailable('CA key is not a private key');
  const signatureAlgorithm = signingAlgorithmFor(privateKey);
  const keyInfo = describeKeyObject(privateKey);
  if (signatureAlgorithm === undefined || isRefusal(keyInfo)) {
    throw unavailable('CA key type is not supported');
  }
  // @see RFC 5280 §4.1.2.7: the certificate must certify the very key we sign with.
  if (!keyInfo.spkiDer.equals(certificate.spkiDer)) {
    throw unavailable('CA private key does not match the CA certificate');
  }
  const ext = certificate.extensions;
  const keyId = ext.subjectKeyId ?? keyIdentifier(keyInfo);
  const selfSigned =
    certificate.issuerDer.equals(certificate.subjectDer) &&
    (ext.authorityKeyId === undefined || ext.authorityKeyId.equals(keyId));
  const chainPem = [
    ...(selfSigned ? [] : [encodePem(certificate.der, 'CERTIFICATE')]),
    ...chainDer.map((der) => encodePem(der, 'CERTIFICATE')),
  ];
  return Object.freeze({
    authority: snapshot,
    certificate,
    publicKey: createPublicKey(privateKey),
    signatureAlgorithm,
    keyId,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    pathLength: ext.basicConstraints?.pathLength,
    selfSigned,
    chainPem: Object.freeze(chainPem),
  });
}

function unavailable(detail: string, cause?: unknown): HallmarkError {
  return new HallmarkError('ERR_CA_UNAVAILABLE', { detail, cause });
}
