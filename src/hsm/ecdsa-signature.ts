// ECDSA signatures in both encodings: PKCS#11's raw r‖s (as JWS wants it) and X.509's DER.

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let body = magnitude.subarray(start);
  // A set high bit would make the INTEGER negative (X.690 §8.3.2): prefix a zero octet.
  if ((body[0] as number) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return Buffer.concat([Buffer.from([0x02]), derLength(body.length), body]);
}

/**
 * Converts a raw signature (r‖s, each `fieldBytes` long: what CKM_ECDSA returns, PKCS #11
 * v2.40 §2.3.1) to the DER `Ecdsa-Sig-Value` SEQUENCE { r INTEGER, s INTEGER } of RFC 3279
 * §2.2.3 that X.509 signatures carry.
 */
export function rawToDer(raw: Buffer, fieldBytes: number): Buffer {
  if (raw.length !== 2 * fieldBytes) {
    throw new RangeError(`ECDSA signature is ${raw.length} bytes, expected ${2 * fieldBytes}`);
  }
  const body = Buffer.concat([
    derInteger(raw.subarray(0, fieldBytes)),
    derInteger(raw.subarray(fieldBytes)),
  ]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}
