// Certificate signing requests: parse PKCS#10, prove possession of the key, keep only the key.
import type { KeyObject } from 'node:crypto';
import { HallmarkError } from '../errors/index.js';
import type { ErrorCode } from '../errors/index.js';
import {
  MalformedDerError,
  TAG,
  childrenOf,
  derChildren,
  isContext,
  isUniversal,
  parseDer,
  smallIntegerOf,
  wholeBitString,
} from './der-reader.js';
import type { Asn1Node } from './der-writer.js';
import { decodeSinglePem } from './pem.js';
import { readSignatureAlgorithm, verifyData } from './signature-algorithm.js';
import type { SignatureAlgorithm } from './signature-algorithm.js';
import { importPublicKey, isRefusal, readSubjectPublicKey } from './subject-public-key.js';
import type { PublicKeyInfo } from './subject-public-key.js';

/** Largest CSR PEM we look at; real ones are under 2 KiB even with RSA-8192 keys. */
export const MAX_CSR_PEM_LENGTH = 16 * 1024;

/** What a CSR contributes to a certificate: its public key, nothing else. */
export interface VerifiedCsr {
  /** The requester's key, proven by the CSR's signature. */
  readonly publicKey: KeyObject;
  /** The same key in canonical form, as the certificate will carry it. */
  readonly publicKeyInfo: PublicKeyInfo;
}

/**
 * Parses a PKCS#10 CSR (PEM), checks its key is one Hallmark accepts and verifies its
 * self-signature. The subject and every attribute — requested SANs, extensions, the CA flag —
 * are ignored: identity comes from attestation, never from the CSR.
 *
 * @throws HallmarkError `ERR_CSR_MALFORMED` (not a PKCS#10 CSR), `ERR_CSR_UNSUPPORTED_KEY`
 *   (key type or size refused), `ERR_CSR_UNSUPPORTED_ALGORITHM` (e.g. SHA-1 signature),
 *   `ERR_CSR_BAD_SIGNATURE` (signature does not verify under the CSR's key).
 * @see RFC 2986 §4
 */
export function verifyCsr(csrPem: string): VerifiedCsr {
  if (typeof csrPem !== 'string' || csrPem.length > MAX_CSR_PEM_LENGTH) {
    throw csrError('ERR_CSR_MALFORMED', 'CSR missing or too large');
  }
  let der: Buffer;
  let infoDer: Buffer;
  let spkiDer: Buffer;
  let signatureNode: Asn1Node | undefined;
  let signatureAlgorithmNode: Asn1Node | undefined;
  try {
    der = decodeSinglePem(csrPem, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
    // The signature covers the CertificationRequestInfo exactly as sent, so slice raw bytes.
    const raw = derChildren(der);
    if (raw.length !== 3) throw new MalformedDerError('CertificationRequest needs 3 fields');
    infoDer = raw[0]!;
    const [info, algorithm, signature] = childrenOf(parseDer(der), TAG.SEQUENCE, 'CSR');
    const [version, subject, , attributes, extra] = childrenOf(info, TAG.SEQUENCE, 'info');
    if (smallIntegerOf(version, 'version') !== 0) throw new MalformedDerError('version must be 0');
    if (!isUniversal(subject, TAG.SEQUENCE)) throw new MalformedDerError('subject must be a Name');
    // attributes [0] IMPLICIT SET: required by RFC 2986, tolerated when absent; never read.
    if ((attributes !== undefined && !isContext(attributes, 0)) || extra !== undefined) {
      throw new MalformedDerError('unexpected fields in CertificationRequestInfo');
    }
    spkiDer = derChildren(infoDer)[2]!;
    signatureAlgorithmNode = algorithm;
    signatureNode = signature;
  } catch (err) {
    throw wrapMalformed(err);
  }

  const keyInfo = readSubjectPublicKey(spkiDer);
  if (isRefusal(keyInfo)) {
    throw csrError(
      keyInfo.refused === 'unsupported' ? 'ERR_CSR_UNSUPPORTED_KEY' : 'ERR_CSR_MALFORMED',
      keyInfo.detail,
    );
  }
  let signatureValue: Buffer;
  let algorithm: SignatureAlgorithm | undefined;
  try {
    algorithm = readSignatureAlgorithm(signatureAlgorithmNode);
    signatureValue = wholeBitString(signatureNode, 'signature');
  } catch (err) {
    throw wrapMalformed(err);
  }
  if (algorithm === undefined) {
    throw csrError('ERR_CSR_UNSUPPORTED_ALGORITHM', 'signature algorithm not accepted');
  }
  if (algorithm.keyFamily !== keyFamilyOf(keyInfo)) {
    throw csrError(
      'ERR_CSR_BAD_SIGNATURE',
      `${algorithm.name} cannot be made by a ${keyInfo.kind} key`,
    );
  }
  let publicKey: KeyObject;
  try {
    publicKey = importPublicKey(keyInfo);
  } catch (err) {
    throw csrError('ERR_CSR_MALFORMED', `public key rejected: ${(err as Error).message}`);
  }
  // @see RFC 2986 §3: the signature proves the requester holds the private key.
  if (!verifyData(algorithm, publicKey, infoDer, signatureValue)) {
    throw csrError('ERR_CSR_BAD_SIGNATURE', `${algorithm.name} signature does not verify`);
  }
  return { publicKey, publicKeyInfo: keyInfo };
}

function keyFamilyOf(info: PublicKeyInfo): 'ec' | 'rsa' | 'ed25519' {
  return info.kind === 'ec-p256' || info.kind === 'ec-p384' ? 'ec' : info.kind;
}

function csrError(code: ErrorCode, detail: string): HallmarkError {
  return new HallmarkError(code, { detail });
}

function wrapMalformed(err: unknown): HallmarkError {
  if (err instanceof MalformedDerError) return csrError('ERR_CSR_MALFORMED', err.message);
  return new HallmarkError('ERR_CSR_MALFORMED', { detail: 'unparseable CSR', cause: err });
}
