// CA certificate templates: the self-signed root and the intermediate under an upstream CA.
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../clock/index.js';
import { HallmarkError, isHallmarkError } from '../errors/index.js';
import { parseTrustDomain } from '../spiffe/index.js';
import {
  BACKDATE_SECONDS,
  buildTbsCertificate,
  randomSerial,
  certificateDer,
  serialHex,
  wholeSeconds,
} from './certificate-builder.js';
import { MalformedDerError } from './der-reader.js';
import type { Asn1Node } from './der-writer.js';
import { NAME_LIMITS, buildName } from './distinguished-name.js';
import {
  KEY_USAGE,
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  keyUsageExtension,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
} from './extension-builder.js';
import type { KeyPair } from './key-pair.js';
import { parseCertificate } from './parsed-certificate.js';
import { encodePem } from './pem.js';
import { signData, signingAlgorithmFor, verifyData } from './signature-algorithm.js';
import type { SignatureAlgorithm } from './signature-algorithm.js';
import { prepareAuthority } from './signing-authority.js';
import type {
  CertificateSigner,
  PreparedAuthority,
  SigningAuthority,
} from './signing-authority.js';
import { describeKeyObject, isRefusal, keyIdentifier } from './subject-public-key.js';
import { SvidRuleError, checkSigningCertificate } from './svid-rules.js';

/**
 * The new CA's key: a key pair in this process (`keyPair`), or a signer for a key held in a
 * PKCS#11 token (`signer`) — exactly one.
 */
export interface NewCaKey {
  readonly keyPair?: KeyPair;
  readonly signer?: CertificateSigner;
}

/** Input of {@link buildSelfSignedCa}. */
export interface SelfSignedCaRequest extends NewCaKey {
  readonly trustDomain: string;
  readonly ttlSeconds: number;
  readonly clock: Clock;
  /** Subject CN, default `Hallmark CA`; at most 64 characters. */
  readonly subjectCommonName?: string;
}

/** Input of {@link buildIntermediateCa}. */
export interface IntermediateCaRequest extends NewCaKey {
  readonly trustDomain: string;
  /** The operator's CA that signs it. */
  readonly upstream: SigningAuthority | PreparedAuthority;
  readonly ttlSeconds: number;
  readonly clock: Clock;
  /** Subject CN, default `Hallmark intermediate CA`; at most 64 characters. */
  readonly subjectCommonName?: string;
}

/**
 * Builds a self-signed root for `trustDomain`: subject O=Hallmark, CN, serialNumber (so every
 * rotated CA has a distinct name), URI SAN `spiffe://<td>` with no path, critical
 * basicConstraints cA=true, critical keyUsage keyCertSign+cRLSign, subjectKeyIdentifier.
 * notBefore is backdated 10 s. Signed by its own key (through `signer` when the key is in a
 * token), and its signature verified with the public key before it is returned.
 *
 * @returns the CA certificate (PEM); `keyPair.privateKey` (or `signer`) is its signing key.
 *
 * @throws HallmarkError `ERR_SPIFFE_TRUST_DOMAIN_INVALID`, `ERR_X509_TEMPLATE_INVALID`; a
 *   signer's own errors (a token that cannot sign) as they are.
 * @see SPIFFE X509-SVID §3.2, §4.1, §4.3; SPIFFE-ID §3.1 (signing authority ID has no path)
 */
export async function buildSelfSignedCa(request: SelfSignedCaRequest): Promise<string> {
  const now = request.clock.now();
  const notBefore = wholeSeconds(now - BACKDATE_SECONDS * 1000);
  const notAfter = wholeSeconds(now + checkTtl(request.ttlSeconds) * 1000);
  return buildCa(
    request,
    request.subjectCommonName ?? 'Hallmark CA',
    notBefore,
    notAfter,
    undefined,
  );
}

/**
 * Builds an intermediate CA for `trustDomain` signed by an operator-supplied upstream CA.
 * Like the root, plus authorityKeyIdentifier and pathLenConstraint 0 (it signs only leaves);
 * notAfter is capped at the upstream's, notBefore kept within it.
 *
 * @returns the intermediate CA certificate (PEM). As a {@link SigningAuthority} its
 *   `chainPem` is the upstream certificate and the upstream's intermediates, not its root.
 *
 * @throws HallmarkError `ERR_CA_UPSTREAM_INVALID` when the upstream cannot sign a CA (not a
 *   CA, key mismatch, pathLenConstraint 0, expired), plus the errors of the root builder.
 * @see RFC 5280 §4.2.1.9 (pathLenConstraint)
 */
export async function buildIntermediateCa(request: IntermediateCaRequest): Promise<string> {
  let upstream: PreparedAuthority;
  try {
    upstream = prepareAuthority(request.upstream);
  } catch (err) {
    if (isHallmarkError(err, 'ERR_CA_UNAVAILABLE')) {
      throw new HallmarkError('ERR_CA_UPSTREAM_INVALID', { detail: err.detail, cause: err });
    }
    throw err;
  }
  if (upstream.pathLength === 0) throw upstreamError('upstream CA may not sign CA certificates');
  const now = request.clock.now();
  const ttl = checkTtl(request.ttlSeconds);
  if (now < upstream.notBefore.getTime() || now >= upstream.notAfter.getTime()) {
    throw upstreamError('upstream CA certificate is not valid now');
  }
  const notBefore = wholeSeconds(
    Math.max(now - BACKDATE_SECONDS * 1000, upstream.notBefore.getTime()),
  );
  const notAfter = wholeSeconds(Math.min(now + ttl * 1000, upstream.notAfter.getTime()));
  if (notAfter <= notBefore) throw upstreamError('upstream CA expires too soon');
  const cn = request.subjectCommonName ?? 'Hallmark intermediate CA';
  return buildCa(request, cn, notBefore, notAfter, upstream);
}

/** The new CA's public key and how it signs its own certificate (a self-signed root). */
function ownKey(request: NewCaKey): {
  publicKey: KeyObject;
  algorithm: SignatureAlgorithm | undefined;
  sign: (data: Buffer) => Promise<Buffer>;
} {
  const { keyPair, signer } = request;
  if ((keyPair === undefined) === (signer === undefined)) {
    throw templateError('a new CA needs exactly one of a key pair and a signer');
  }
  const publicKey = (signer?.publicKey ?? keyPair?.publicKey) as KeyObject;
  const algorithm = signingAlgorithmFor(keyPair?.privateKey ?? publicKey);
  if (algorithm === undefined) return { publicKey, algorithm, sign: async () => Buffer.alloc(0) };
  const sign =
    signer !== undefined
      ? (data: Buffer) => signer.sign(data, { hash: algorithm.hash ?? undefined })
      : async (data: Buffer) => signData(algorithm, (keyPair as KeyPair).privateKey, data);
  return { publicKey, algorithm, sign };
}

async function buildCa(
  request: SelfSignedCaRequest | IntermediateCaRequest,
  commonName: string,
  notBefore: Date,
  notAfter: Date,
  upstream: PreparedAuthority | undefined,
): Promise<string> {
  const trustDomain = parseTrustDomain(request.trustDomain);
  if (commonName.length === 0 || commonName.length > NAME_LIMITS.commonName) {
    throw templateError('subject common name must be 1 to 64 characters');
  }
  const own = ownKey(request);
  const keyInfo = describeKeyObject(own.publicKey);
  const ownAlgorithm = own.algorithm;
  if (isRefusal(keyInfo) || ownAlgorithm === undefined)
    throw templateError('CA key type not supported');
  if (request.signer !== undefined && ownAlgorithm.hash === null)
    throw templateError('a CA signer cannot sign Ed25519');
  const algorithm: SignatureAlgorithm = upstream?.signatureAlgorithm ?? ownAlgorithm;
  const sign = upstream?.sign ?? own.sign;
  const verifyingKey = upstream?.publicKey ?? own.publicKey;

  const serial = randomSerial();
  const subjectDer = buildName({
    organization: 'Hallmark',
    commonName,
    serialNumber: serialHex(serial),
  });
  const spiffeId = `spiffe://${trustDomain}`;
  const keyId = keyIdentifier(keyInfo);
  const extensions: Asn1Node[] = [
    basicConstraintsExtension(true, upstream === undefined ? undefined : 0),
    keyUsageExtension([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]),
    subjectKeyIdentifierExtension(keyId),
    // Not critical: the subject is not empty.
    subjectAltNameExtension({ uris: [spiffeId] }, false),
  ];
  if (upstream !== undefined) extensions.push(authorityKeyIdentifierExtension(upstream.keyId));
  const tbs = buildTbsCertificate({
    serial,
    signatureAlgorithm: algorithm,
    issuerDer: upstream?.certificate.subjectDer ?? subjectDer,
    subjectDer,
    notBefore,
    notAfter,
    spkiDer: keyInfo.spkiDer,
    extensions,
  });
  const der = certificateDer(tbs, algorithm, await sign(tbs));

  // Validate what was produced before anyone can trust it.
  try {
    const cert = parseCertificate(der);
    checkSigningCertificate(cert);
    const ok =
      cert.signatureAlgorithm !== undefined &&
      verifyData(cert.signatureAlgorithm, verifyingKey, cert.tbsDer, cert.signature) &&
      cert.spkiDer.equals(keyInfo.spkiDer) &&
      cert.extensions.subjectAltName?.uris.length === 1 &&
      cert.extensions.subjectAltName.uris[0] === spiffeId &&
      cert.extensions.keyUsage?.critical === true &&
      cert.extensions.basicConstraints?.critical === true;
    if (!ok)
      throw new HallmarkError('ERR_X509_TEMPLATE_INVALID', {
        detail: 'CA certificate failed its check',
      });
  } catch (err) {
    if (err instanceof MalformedDerError || err instanceof SvidRuleError) {
      throw templateError(`CA certificate failed its check: ${err.message}`);
    }
    throw err;
  }
  return encodePem(der, 'CERTIFICATE');
}

function checkTtl(ttlSeconds: number): number {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1)
    throw templateError(`bad TTL ${ttlSeconds}`);
  return ttlSeconds;
}

function templateError(detail: string): HallmarkError {
  return new HallmarkError('ERR_X509_TEMPLATE_INVALID', { detail });
}

function upstreamError(detail: string): HallmarkError {
  return new HallmarkError('ERR_CA_UPSTREAM_INVALID', { detail });
}
