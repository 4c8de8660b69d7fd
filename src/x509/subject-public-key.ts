// SubjectPublicKeyInfo: which public keys Hallmark accepts, their canonical DER, and key IDs.
import { createPublicKey, hash } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import {
  MalformedDerError,
  TAG,
  childrenOf,
  isUniversal,
  oidOf,
  parseDer,
  unsignedIntegerOf,
  wholeBitString,
} from './der-reader.js';
import { bitString, encode, nullValue, oid, sequence, unsignedInteger } from './der-writer.js';
import type { Asn1Node } from './der-writer.js';
import { OID } from './oids.js';

/** Accepted public key kinds. */
export type PublicKeyKind = 'ec-p256' | 'ec-p384' | 'rsa' | 'ed25519';

/** RSA moduli outside this range are refused: below is weak, above only costs us CPU. */
export const RSA_MIN_BITS = 2048;
export const RSA_MAX_BITS = 8192;

/**
 * RSA public exponents accepted: odd, from 65537 up to 2^31-1. The upper bound is Go's
 * crypto/rsa (so every SVID we issue is usable by Go workloads) and caps the cost of a
 * signature check: verification time grows with the exponent's bit length, and a ~3071-bit
 * exponent on an RSA-3072 key costs about 115 times a normal one.
 */
export const RSA_MIN_EXPONENT = 65537n;
export const RSA_MAX_EXPONENT = 2n ** 31n - 1n;

/** An accepted public key, re-encoded canonically. */
export interface PublicKeyInfo {
  readonly kind: PublicKeyKind;
  /** Curve size or RSA modulus length in bits (256 for Ed25519). */
  readonly bits: number;
  /** Canonical DER SubjectPublicKeyInfo, as it goes into certificates. */
  readonly spkiDer: Buffer;
  /** The subjectPublicKey BIT STRING's bytes (what key identifiers hash). */
  readonly keyBytes: Buffer;
  /** The same key as a JWK, the cheapest form node:crypto imports (see importPublicKey). */
  readonly jwk: JsonWebKey;
}

/** Why a SubjectPublicKeyInfo was refused. */
export interface PublicKeyRefusal {
  readonly refused: 'malformed' | 'unsupported';
  readonly detail: string;
}

const EC_POINT_BYTES: Record<string, { kind: PublicKeyKind; crv: string; size: number }> = {
  [OID.prime256v1]: { kind: 'ec-p256', crv: 'P-256', size: 32 },
  [OID.secp384r1]: { kind: 'ec-p384', crv: 'P-384', size: 48 },
};

/**
 * Reads a DER SubjectPublicKeyInfo and decides whether Hallmark accepts the key: EC P-256 or
 * P-384 on a named curve with an uncompressed point, RSA (rsaEncryption) of 2048-8192 bits
 * with an odd exponent in [65537, 2^31-1], or Ed25519. Anything else — other curves such as
 * secp256k1, explicit curve parameters, RSA-1024, RSASSA-PSS-only keys — is `unsupported`.
 */
export function readSubjectPublicKey(spkiDer: Buffer): PublicKeyInfo | PublicKeyRefusal {
  // Nearly every key is P-256 or P-384 in canonical form: recognise those bytes directly.
  for (const [curveOid, prefix] of EC_CANONICAL_PREFIX) {
    if (
      spkiDer.length === prefix.length + 1 + 2 * EC_POINT_BYTES[curveOid]!.size &&
      spkiDer.subarray(0, prefix.length).equals(prefix)
    ) {
      return ecKeyInfo(curveOid, spkiDer.subarray(prefix.length));
    }
  }
  try {
    const [algorithm, key] = childrenOf(parseDer(spkiDer), TAG.SEQUENCE, 'SubjectPublicKeyInfo');
    const [algorithmOid, parameters, extra] = childrenOf(algorithm, TAG.SEQUENCE, 'algorithm');
    if (extra !== undefined) throw new MalformedDerError('algorithm: too many fields');
    const keyBytes = wholeBitString(key, 'subjectPublicKey');
    const algorithmId = oidOf(algorithmOid, 'algorithm');
    switch (algorithmId) {
      case OID.ecPublicKey:
        return readEcKey(parameters, keyBytes);
      case OID.rsaEncryption:
        return readRsaKey(parameters, keyBytes);
      case OID.ed25519:
        return readEd25519Key(parameters, keyBytes);
      default:
        return { refused: 'unsupported', detail: `public key algorithm ${algorithmId}` };
    }
  } catch (err) {
    if (err instanceof MalformedDerError) return { refused: 'malformed', detail: err.message };
    throw err;
  }
}

/** True when {@link readSubjectPublicKey} refused the key. */
export function isRefusal(v: PublicKeyInfo | PublicKeyRefusal): v is PublicKeyRefusal {
  return 'refused' in v;
}

// @see RFC 5480 §2.1.1 (namedCurve only), §2.2 (ECPoint); SEC 1 §2.3.3 (0x04 = uncompressed)
function readEcKey(
  parameters: Asn1Node | undefined,
  point: Buffer,
): PublicKeyInfo | PublicKeyRefusal {
  if (!isUniversal(parameters, TAG.OID)) {
    return { refused: 'unsupported', detail: 'EC key without a named curve' };
  }
  const curveOid = oidOf(parameters, 'namedCurve');
  const curve = EC_POINT_BYTES[curveOid];
  if (curve === undefined) return { refused: 'unsupported', detail: `EC curve ${curveOid}` };
  if (point[0] !== 0x04) return ecKeyInfo(curveOid, point);
  if (point.length !== 1 + 2 * curve.size) {
    throw new MalformedDerError('EC point has the wrong size');
  }
  return ecKeyInfo(curveOid, point);
}

function ecKeyInfo(curveOid: string, point: Buffer): PublicKeyInfo | PublicKeyRefusal {
  const curve = EC_POINT_BYTES[curveOid]!;
  if (point[0] !== 0x04) {
    // Compressed points are legal SEC 1 but Go and other strict parsers reject them in certificates.
    return { refused: 'unsupported', detail: 'EC point is not uncompressed' };
  }
  return {
    kind: curve.kind,
    bits: curve.size * 8,
    keyBytes: point,
    spkiDer: Buffer.concat([EC_CANONICAL_PREFIX.get(curveOid)!, point]),
    jwk: {
      kty: 'EC',
      crv: curve.crv,
      x: point.subarray(1, 1 + curve.size).toString('base64url'),
      y: point.subarray(1 + curve.size).toString('base64url'),
    },
  };
}

/**
 * The bytes a canonical EC SubjectPublicKeyInfo has before its point: every field ahead of
 * the point has a fixed size per curve, so encoding once with a blank point gives them.
 */
function ecCanonicalPrefix(curveOid: string): Buffer {
  const curve = EC_POINT_BYTES[curveOid]!;
  const pointBytes = 1 + 2 * curve.size;
  const der = encode(
    sequence([
      sequence([oid(OID.ecPublicKey), oid(curveOid)]),
      bitString(Buffer.alloc(pointBytes)),
    ]),
  );
  return der.subarray(0, der.length - pointBytes);
}

const EC_CANONICAL_PREFIX = new Map<string, Buffer>(
  [OID.prime256v1, OID.secp384r1].map((curveOid) => [curveOid, ecCanonicalPrefix(curveOid)]),
);

// @see RFC 3279 §2.3.1 (parameters NULL, RSAPublicKey); CA/Browser Forum BR §6.1.6 (exponent)
function readRsaKey(
  parameters: Asn1Node | undefined,
  keyBytes: Buffer,
): PublicKeyInfo | PublicKeyRefusal {
  if (!isUniversal(parameters, TAG.NULL)) {
    throw new MalformedDerError('rsaEncryption parameters must be NULL');
  }
  const [modulus, exponentNode, extra] = childrenOf(
    parseDer(keyBytes),
    TAG.SEQUENCE,
    'RSAPublicKey',
  );
  if (extra !== undefined) throw new MalformedDerError('RSAPublicKey: too many fields');
  const n = unsignedIntegerOf(modulus, 'modulus');
  const e = unsignedIntegerOf(exponentNode, 'publicExponent');
  const bits = bitLength(n);
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    return { refused: 'unsupported', detail: `RSA modulus of ${bits} bits` };
  }
  // A magnitude over 4 bytes is over 2^31-1 already: refuse without converting it.
  const exponent = e.length > 4 ? RSA_MAX_EXPONENT + 1n : BigInt(`0x${e.toString('hex')}`);
  if (exponent % 2n === 0n || exponent < RSA_MIN_EXPONENT || exponent > RSA_MAX_EXPONENT) {
    return {
      refused: 'unsupported',
      detail: 'RSA public exponent must be odd and between 65537 and 2^31-1',
    };
  }
  const rsaPublicKey = encode(sequence([unsignedInteger(n), unsignedInteger(e)]));
  return {
    kind: 'rsa',
    bits,
    keyBytes: rsaPublicKey,
    spkiDer: encode(
      sequence([sequence([oid(OID.rsaEncryption), nullValue()]), bitString(rsaPublicKey)]),
    ),
    jwk: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') },
  };
}

// @see RFC 8410 §3 (parameters absent), §4 (32-byte key)
function readEd25519Key(parameters: Asn1Node | undefined, keyBytes: Buffer): PublicKeyInfo {
  if (parameters !== undefined) throw new MalformedDerError('Ed25519 parameters must be absent');
  if (keyBytes.length !== 32) throw new MalformedDerError('Ed25519 key must be 32 bytes');
  return {
    kind: 'ed25519',
    bits: 256,
    keyBytes,
    spkiDer: encode(sequence([sequence([oid(OID.ed25519)]), bitString(keyBytes)])),
    jwk: { kty: 'OKP', crv: 'Ed25519', x: keyBytes.toString('base64url') },
  };
}

function bitLength(magnitude: Buffer): number {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  if (i === magnitude.length) return 0;
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(magnitude[i]!));
}

/**
 * Imports an accepted key into node:crypto. JWK is used because, with OpenSSL 3.0, importing
 * DER SubjectPublicKeyInfo costs far more (measured: EC 270 µs vs 200 µs, RSA 395 µs vs
 * 11 µs, Ed25519 193 µs vs 21 µs). The EC import still checks the point is on the curve.
 * @throws Error when node:crypto refuses the key (e.g. an EC point not on the curve).
 */
export function importPublicKey(info: PublicKeyInfo): KeyObject {
  return createPublicKey({ key: info.jwk, format: 'jwk' });
}

/** The canonical {@link PublicKeyInfo} of one of our own keys, or a refusal. */
export function describeKeyObject(key: KeyObject): PublicKeyInfo | PublicKeyRefusal {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return readSubjectPublicKey(publicKey.export({ type: 'spki', format: 'der' }));
}

/**
 * A key identifier: the leftmost 160 bits of the SHA-256 of the subjectPublicKey bytes.
 * @see RFC 7093 §2 method 1; RFC 5280 §4.2.1.2
 */
export function keyIdentifier(info: PublicKeyInfo): Buffer {
  return hash('sha256', info.keyBytes, 'buffer').subarray(0, 20);
}

/** SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex (what issuance records store). */
export function spkiFingerprint(spkiDer: Buffer): string {
  return hash('sha256', spkiDer, 'hex');
}
