// Signing authorities: a CA certificate and key, checked and pre-digested once for fast issuance.
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { HallmarkError } from '../errors/index.js';
import { MalformedDerError } from './der-reader.js';
import { parseCertificate } from './parsed-certificate.js';
import type { ParsedCertificate } from './parsed-certificate.js';
import { decodeCertificates, encodePem } from './pem.js';
import { signData, signingAlgorithmFor, verifyData } from './signature-algorithm.js';
import type { SignatureAlgorithm } from './signature-algorithm.js';
import { describeKeyObject, isRefusal, keyIdentifier } from './subject-public-key.js';
import { SvidRuleError, checkCanSignCertificates } from './svid-rules.js';

/**
 * Signs for a key held elsewhere than in a KeyObject here — a PKCS#11 token — and returns only
 * signatures (DER-encoded for ECDSA, as X.509 wants). The keyring's `KeySigner` has this shape.
 */
export interface CertificateSigner {
  readonly publicKey: KeyObject;
  sign(data: Buffer, options?: { readonly hash?: 'sha256' | 'sha384' | 'sha512' }): Promise<Buffer>;
}

/**
 * A CA that can sign: its certificate, its key and the chain above it. The key is either a
 * private key in this process (`privateKey`) or a {@link CertificateSigner} (`signer`), never
 * both.
 */
export interface SigningAuthority {
  /** The CA certificate (PEM). */
  readonly certificatePem: string;
  readonly privateKey?: KeyObject;
  readonly signer?: CertificateSigner;
  /** Intermediates above this CA up to, not including, the root; often empty. */
  readonly chainPem: readonly string[];
}

/** A {@link SigningAuthority} checked once and reduced to what issuance needs. */
export interface PreparedAuthority {
  readonly authority: SigningAuthority;
  readonly certificate: ParsedCertificate;
  readonly publicKey: KeyObject;
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** Signs a TBSCertificate (or any DER to be signed) with the CA key and its algorithm. */
  readonly sign: (data: Buffer) => Promise<Buffer>;
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

// Keyed by the private key or signer, which stays the same object while a CA is active even
// when callers wrap it in a fresh SigningAuthority per request; the other fields are compared.
const prepared = new WeakMap<object, PreparedAuthority>();

/**
 * Authorities whose key is proven to be the certificate's: a private key here is (its public
 * half is derived from it); a signer's is once a signature it made verified under the
 * certificate's key ({@link signProven}).
 */
const proven = new WeakSet<PreparedAuthority>();

/**
 * Checks a signing authority once — a CA certificate (cA true, keyCertSign), a supported key
 * that matches it, a parsable chain — and caches the pieces every issuance reuses: issuer
 * name, key identifier, signature algorithm, validity. Later calls with the same private key
 * or signer object, certificate and chain return the cached result, so callers may pass a
 * fresh wrapper object each time.
 *
 * @throws HallmarkError `ERR_CA_UNAVAILABLE` with the reason in `detail`.
 */
export function prepareAuthority(
  authority: SigningAuthority | PreparedAuthority,
): PreparedAuthority {
  if (isPrepared(authority)) return authority;
  const key = authority.privateKey ?? authority.signer;
  if (key === undefined || (authority.privateKey && authority.signer)) {
    throw unavailable('a CA needs exactly one of a private key and a signer');
  }
  const cached = prepared.get(key);
  if (
    cached !== undefined &&
    cached.authority.certificatePem === authority.certificatePem &&
    sameChain(cached.authority.chainPem, authority.chainPem)
  ) {
    return cached;
  }
  const result = prepareUncached(authority);
  prepared.set(key, result);
  return result;
}

/**
 * Signs `data` with the authority. Until one of a signer's signatures has verified under the
 * CA certificate's public key, each is checked before it is used: the certificate says which
 * key signs, and a signer (a token key found by its id) must prove it is that key once.
 *
 * @throws HallmarkError `ERR_CA_UNAVAILABLE` when the signer's key is not the certificate's;
 *   the signer's own errors (a token that cannot sign) as they are.
 */
export async function signProven(authority: PreparedAuthority, data: Buffer): Promise<Buffer> {
  const signature = await authority.sign(data);
  if (!proven.has(authority)) {
    if (!verifyData(authority.signatureAlgorithm, authority.publicKey, data, signature)) {
      throw unavailable('the CA signer does not sign for the CA certificate’s key');
    }
    proven.add(authority);
  }
  return signature;
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
    ...(authority.privateKey ? { privateKey: authority.privateKey } : {}),
    ...(authority.signer ? { signer: authority.signer } : {}),
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
  const { privateKey, signer } = snapshot;
  if (privateKey !== undefined && privateKey.type !== 'private') {
    throw unavailable('CA key is not a private key');
  }
  const publicKey = signer?.publicKey ?? createPublicKey(privateKey as KeyObject);
  const signatureAlgorithm = signingAlgorithmFor(publicKey);
  const keyInfo = describeKeyObject(publicKey);
  if (signatureAlgorithm === undefined || isRefusal(keyInfo)) {
    throw unavailable('CA key type is not supported');
  }
  const { hash } = signatureAlgorithm;
  if (signer !== undefined && hash === null) throw unavailable('a CA signer cannot sign Ed25519');
  // @see RFC 5280 §4.1.2.7: the certificate must certify the very key we sign with.
  if (!keyInfo.spkiDer.equals(certificate.spkiDer)) {
    throw unavailable('CA private key does not match the CA certificate');
  }
  const sign =
    signer !== undefined
      ? (data: Buffer) => signer.sign(data, { hash: hash ?? undefined })
      : async (data: Buffer) => signData(signatureAlgorithm, privateKey as KeyObject, data);
  const ext = certificate.extensions;
  const keyId = ext.subjectKeyId ?? keyIdentifier(keyInfo);
  const selfSigned =
    certificate.issuerDer.equals(certificate.subjectDer) &&
    (ext.authorityKeyId === undefined || ext.authorityKeyId.equals(keyId));
  const chainPem = [
    ...(selfSigned ? [] : [encodePem(certificate.der, 'CERTIFICATE')]),
    ...chainDer.map((der) => encodePem(der, 'CERTIFICATE')),
  ];
  const result: PreparedAuthority = Object.freeze({
    authority: snapshot,
    certificate,
    publicKey,
    signatureAlgorithm,
    sign,
    keyId,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    pathLength: ext.basicConstraints?.pathLength,
    selfSigned,
    chainPem: Object.freeze(chainPem),
  });
  // A private key here is proven by deriving the public key from it, above.
  if (signer === undefined) proven.add(result);
  return result;
}

function unavailable(detail: string, cause?: unknown): HallmarkError {
  return new HallmarkError('ERR_CA_UNAVAILABLE', { detail, cause });
}
