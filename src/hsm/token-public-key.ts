// A token key's public half as node:crypto wants it, from the attributes C_GetAttributeValue reads.
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { EC_FIELD_BYTES, EC_PARAMS } from './key-objects.js';

/**
 * The uncompressed point (0x04‖X‖Y) from CKA_EC_POINT. PKCS #11 v2.40 §2.3.3 makes it the DER
 * OCTET STRING of the point; some tokens return the bare point, so both are accepted.
 */
function uncompressedPoint(ecPoint: Buffer, fieldBytes: number): Buffer {
  const pointLength = 1 + 2 * fieldBytes;
  if (ecPoint.length === pointLength && ecPoint[0] === 0x04) return ecPoint;
  // OCTET STRING, short-form length (a P-384 point is 97 bytes, under 128).
  if (ecPoint.length === pointLength + 2 && ecPoint[0] === 0x04 && ecPoint[1] === pointLength) {
    const point = ecPoint.subarray(2);
    if (point[0] === 0x04) return point;
  }
  throw new RangeError('CKA_EC_POINT is not an uncompressed point of the expected curve');
}

/**
 * The public key of an ECDSA key in the token.
 *
 * @throws RangeError when the token's curve is not `type`'s or the point is malformed.
 */
export function ecPublicKey(
  type: 'ec-p256' | 'ec-p384',
  ecParams: Buffer,
  ecPoint: Buffer,
): KeyObject {
  if (!ecParams.equals(EC_PARAMS[type])) {
    throw new RangeError(`CKA_EC_PARAMS is not the curve of ${type}`);
  }
  const size = EC_FIELD_BYTES[type];
  const point = uncompressedPoint(ecPoint, size);
  // RFC 7518 §6.2.1: x and y are the field-size big-endian coordinates.
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: type === 'ec-p256' ? 'P-256' : 'P-384',
      x: point.subarray(1, 1 + size).toString('base64url'),
      y: point.subarray(1 + size).toString('base64url'),
    },
    format: 'jwk',
  });
}

// RFC 7518 §6.3.1.1: JWK integers use the fewest octets; tokens may pad CK_BYTE arrays.
function minimal(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

/** The public key of an RSA key in the token, from CKA_MODULUS and CKA_PUBLIC_EXPONENT. */
export function rsaPublicKey(modulus: Buffer, publicExponent: Buffer): KeyObject {
  return createPublicKey({
    key: {
      kty: 'RSA',
      n: minimal(modulus).toString('base64url'),
      e: minimal(publicExponent).toString('base64url'),
    },
    format: 'jwk',
  });
}
