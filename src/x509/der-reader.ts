// Reading DER: node-forge's ASN.1 parser for values, and an exact byte slicer for signed parts.
import forge from 'node-forge';
import type { Asn1Node } from './der-writer.js';

const { asn1 } = forge;

/** Thrown for bytes that are not the DER structure expected; callers map it to their code. */
export class MalformedDerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedDerError';
  }
}

interface FromDerOptions {
  strict: boolean;
  parseAllBytes: boolean;
  decodeBitStrings: boolean;
  maxDepth: number;
}
// @types/node-forge declares only the boolean form; forge 1.3 takes an options object.
const fromDer = asn1.fromDer as unknown as (bytes: string, options: FromDerOptions) => Asn1Node;

/**
 * Parses one DER element that must fill `der` exactly. BIT STRING contents are left as
 * bytes (forge would otherwise guess whether they hold nested ASN.1).
 * @throws MalformedDerError
 */
export function parseDer(der: Buffer): Asn1Node {
  // The slicer enforces definite, minimal lengths at the top level, which forge alone allows.
  elementEnd(der, 0);
  try {
    return fromDer(der.toString('latin1'), {
      strict: true,
      parseAllBytes: true,
      decodeBitStrings: false,
      maxDepth: 32,
    });
  } catch (err) {
    throw new MalformedDerError(`not DER: ${(err as Error).message}`);
  }
}

/**
 * The exact bytes of each child of the constructed element that fills `der` — what a
 * signature covers, or a name as the issuer wrote it. Lengths must be definite and minimal.
 * @see X.690 §10.1 (DER length encoding)
 */
export function derChildren(der: Buffer): Buffer[] {
  const outerEnd = elementEnd(der, 0);
  if (outerEnd !== der.length) throw new MalformedDerError('trailing bytes after DER element');
  if ((der[0]! & 0x20) === 0) throw new MalformedDerError('expected a constructed element');
  const children: Buffer[] = [];
  let offset = headerLength(der, 0);
  while (offset < outerEnd) {
    const end = elementEnd(der, offset);
    if (end > outerEnd) throw new MalformedDerError('child overruns its parent');
    children.push(der.subarray(offset, end));
    offset = end;
  }
  return children;
}

// Offset just past the element starting at `offset`.
function elementEnd(der: Buffer, offset: number): number {
  const header = headerLength(der, offset);
  const length = contentLength(der, offset);
  const end = offset + header + length;
  if (end > der.length) throw new MalformedDerError('element overruns the input');
  return end;
}

function headerLength(der: Buffer, offset: number): number {
  if (offset + 2 > der.length) throw new MalformedDerError('truncated element header');
  if ((der[offset]! & 0x1f) === 0x1f) throw new MalformedDerError('high tag numbers not accepted');
  const first = der[offset + 1]!;
  return first & 0x80 ? 2 + (first & 0x7f) : 2;
}

function contentLength(der: Buffer, offset: number): number {
  const first = der[offset + 1]!;
  if ((first & 0x80) === 0) return first;
  const count = first & 0x7f;
  // 0x80 is BER's indefinite length; DER forbids it, and four length bytes are plenty here.
  if (count === 0 || count > 4) throw new MalformedDerError('length form not allowed in DER');
  if (offset + 2 + count > der.length) throw new MalformedDerError('truncated length');
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + der[offset + 2 + i]!;
  // minimal: long form only from 128, and no leading zero length byte
  if (length < 0x80 || der[offset + 2] === 0) throw new MalformedDerError('non-minimal length');
  return length;
}

/** Universal tag numbers used when checking node kinds. */
export const TAG = asn1.Type;

/** True when `node` is a universal node of `type`. */
export function isUniversal(node: Asn1Node | undefined, type: number): node is Asn1Node {
  return node !== undefined && node.tagClass === asn1.Class.UNIVERSAL && node.type === type;
}

/** True when `node` is a context-specific node with tag number `tag`. */
export function isContext(node: Asn1Node | undefined, tag: number): node is Asn1Node {
  return node !== undefined && node.tagClass === asn1.Class.CONTEXT_SPECIFIC && node.type === tag;
}

/** The children of a constructed universal node of `type`, or a MalformedDerError. */
export function childrenOf(node: Asn1Node | undefined, type: number, what: string): Asn1Node[] {
  if (!isUniversal(node, type) || !Array.isArray(node.value)) {
    throw new MalformedDerError(`${what}: expected a constructed element`);
  }
  return node.value;
}

/** The content bytes of a primitive universal node of `type`, as a latin1 string. */
export function bytesOf(node: Asn1Node | undefined, type: number, what: string): string {
  if (!isUniversal(node, type) || typeof node.value !== 'string') {
    throw new MalformedDerError(`${what}: expected a primitive element`);
  }
  return node.value;
}

/** The dotted form of an OBJECT IDENTIFIER node. */
export function oidOf(node: Asn1Node | undefined, what: string): string {
  const bytes = bytesOf(node, TAG.OID, what);
  if (bytes.length === 0) throw new MalformedDerError(`${what}: empty OID`);
  return asn1.derToOid(bytes);
}

/**
 * The bytes of a BIT STRING that must hold whole bytes (keys, signatures).
 * @see X.690 §8.6.2
 */
export function wholeBitString(node: Asn1Node | undefined, what: string): Buffer {
  const bytes = bytesOf(node, TAG.BITSTRING, what);
  if (bytes.length === 0 || bytes.charCodeAt(0) !== 0) {
    throw new MalformedDerError(`${what}: BIT STRING must hold whole bytes`);
  }
  return Buffer.from(bytes.slice(1), 'latin1');
}

/**
 * The magnitude of a non-negative INTEGER, without a leading zero byte. Rejects negative and
 * non-minimal encodings.
 * @see X.690 §8.3.2
 */
export function unsignedIntegerOf(node: Asn1Node | undefined, what: string): Buffer {
  const bytes = Buffer.from(bytesOf(node, TAG.INTEGER, what), 'latin1');
  if (bytes.length === 0) throw new MalformedDerError(`${what}: empty INTEGER`);
  if (bytes[0]! & 0x80) throw new MalformedDerError(`${what}: negative INTEGER`);
  if (bytes.length > 1 && bytes[0] === 0 && (bytes[1]! & 0x80) === 0) {
    throw new MalformedDerError(`${what}: non-minimal INTEGER`);
  }
  return bytes[0] === 0 && bytes.length > 1 ? bytes.subarray(1) : bytes;
}

/** A small non-negative INTEGER as a number (versions, path lengths). */
export function smallIntegerOf(node: Asn1Node | undefined, what: string): number {
  const magnitude = unsignedIntegerOf(node, what);
  if (magnitude.length > 4) throw new MalformedDerError(`${what}: INTEGER too large`);
  return magnitude.readUIntBE(0, magnitude.length);
}
