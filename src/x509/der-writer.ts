// Building DER with node-forge's ASN.1 layer: small constructors for the node kinds we emit.
import forge from 'node-forge';

const { asn1 } = forge;
const UNIVERSAL = asn1.Class.UNIVERSAL;
const CONTEXT = asn1.Class.CONTEXT_SPECIFIC;

/** A node-forge ASN.1 node. */
export type Asn1Node = forge.asn1.Asn1;

// OID encoding is the costliest primitive forge offers; every OID we emit is a constant.
const oidCache = new Map<string, string>();

/** OBJECT IDENTIFIER. */
export function oid(dotted: string): Asn1Node {
  let bytes = oidCache.get(dotted);
  if (bytes === undefined) {
    bytes = asn1.oidToDer(dotted).getBytes();
    oidCache.set(dotted, bytes);
  }
  return asn1.create(UNIVERSAL, asn1.Type.OID, false, bytes);
}

/** SEQUENCE of `children`. */
export function sequence(children: Asn1Node[]): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.SEQUENCE, true, children);
}

/** SET of `children` (callers supply DER order; we only emit one-element sets). */
export function set(children: Asn1Node[]): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.SET, true, children);
}

/**
 * INTEGER from an unsigned big-endian magnitude, minimally encoded: leading zero bytes are
 * dropped and one is added back when the high bit is set, so the value stays positive.
 * @see X.690 §8.3.2
 */
export function unsignedInteger(magnitude: Buffer): Asn1Node {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let body = magnitude.subarray(start).toString('latin1');
  if (body.length === 0) body = '\x00';
  else if (body.charCodeAt(0) & 0x80) body = `\x00${body}`;
  return asn1.create(UNIVERSAL, asn1.Type.INTEGER, false, body);
}

/** INTEGER for a small non-negative number (versions, path lengths). */
export function smallInteger(value: number): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(value).getBytes());
}

/** BOOLEAN TRUE. DER encodes TRUE as 0xFF (X.690 §11.1); FALSE defaults are omitted instead. */
export function booleanTrue(): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.BOOLEAN, false, '\xff');
}

/** NULL (the parameters of RSA signature algorithms, RFC 4055 §5). */
export function nullValue(): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.NULL, false, '');
}

/** OCTET STRING holding `bytes`. */
export function octetString(bytes: Buffer): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes.toString('latin1'));
}

/** BIT STRING holding whole bytes (signatures, public keys). */
export function bitString(bytes: Buffer): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.BITSTRING, false, `\x00${bytes.toString('latin1')}`);
}

/**
 * BIT STRING of named bits, e.g. KeyUsage. Bit 0 is the most significant bit of the first
 * byte; DER drops trailing zero bits and records how many bits of the last byte are unused.
 * @see X.690 §11.2.2
 */
export function namedBits(bits: readonly number[]): Asn1Node {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc((highest >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = 7 - (highest & 7);
  return asn1.create(
    UNIVERSAL,
    asn1.Type.BITSTRING,
    false,
    String.fromCharCode(unused) + bytes.toString('latin1'),
  );
}

/** UTF8String (RFC 5280 §4.1.2.4: the encoding for new DirectoryString values). */
export function utf8String(value: string): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(value));
}

/** PrintableString (X.520 requires it for serialNumber). */
export function printableString(value: string): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.PRINTABLESTRING, false, value);
}

/**
 * A certificate validity time: UTCTime through 2049, GeneralizedTime from 2050, always UTC
 * with seconds and no fraction.
 * @see RFC 5280 §4.1.2.5
 */
export function time(date: Date): Asn1Node {
  return date.getUTCFullYear() < 2050
    ? asn1.create(UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

/** `[tag] EXPLICIT` wrapper around `child`. */
export function explicit(tag: number, child: Asn1Node): Asn1Node {
  return asn1.create(CONTEXT, tag as forge.asn1.Type, true, [child]);
}

/** `[tag] IMPLICIT` constructed, e.g. a CSR's `attributes [0] IMPLICIT SET`. */
export function implicitConstructed(tag: number, children: Asn1Node[]): Asn1Node {
  return asn1.create(CONTEXT, tag as forge.asn1.Type, true, children);
}

/** `[tag] IMPLICIT` primitive, e.g. a GeneralName's uniformResourceIdentifier `[6]`. */
export function implicitPrimitive(tag: number, bytes: string): Asn1Node {
  return asn1.create(CONTEXT, tag as forge.asn1.Type, false, bytes);
}

/**
 * An already-encoded DER element carried through verbatim (names copied from a CA
 * certificate, public keys, a signed TBSCertificate): re-encoding them could change bytes
 * that a signature or a name comparison depends on. forge writes the identifier octet as
 * `tagClass | type`, so the element's whole identifier octet goes in `type` (including the
 * constructed bit) and its content octets are written unchanged.
 */
export function preEncoded(der: Buffer): Asn1Node {
  const identifier = der[0]!;
  if ((identifier & 0x1f) === 0x1f) throw new Error('high tag numbers are not supported');
  let offset = 2;
  const first = der[1]!;
  if (first & 0x80) offset += first & 0x7f;
  const content = der.subarray(offset).toString('latin1');
  return asn1.create(
    (identifier & 0xc0) as forge.asn1.Class,
    (identifier & 0x3f) as forge.asn1.Type,
    false,
    content,
  );
}

/**
 * `node` encoded once and carried as bytes from then on: for the constant parts of every
 * certificate (extensions, algorithm identifiers), which forge would otherwise re-encode
 * node by node on each issuance.
 */
export function encodedOnce(node: Asn1Node): Asn1Node {
  return preEncoded(encode(node));
}

/** DER bytes of `node`. */
export function encode(node: Asn1Node): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'latin1');
}
