// Reading the X.509 v3 extensions that SVID validation looks at.
import forge from 'node-forge';
import {
  MalformedDerError,
  TAG,
  bytesOf,
  childrenOf,
  isContext,
  isUniversal,
  oidOf,
  parseDer,
  smallIntegerOf,
} from './der-reader.js';
import type { Asn1Node } from './der-writer.js';
import { OID } from './oids.js';

/** One extension as found: criticality and the DER inside its OCTET STRING. */
export interface RawExtension {
  readonly critical: boolean;
  readonly value: Buffer;
}

/** The decoded extensions validation needs, plus all of them raw. */
export interface CertificateExtensions {
  readonly all: ReadonlyMap<string, RawExtension>;
  readonly subjectAltName?: {
    readonly critical: boolean;
    readonly uris: readonly string[];
    readonly dnsNames: readonly string[];
    readonly ipAddresses: readonly Buffer[];
    /** GeneralNames of any other kind (email, directoryName, otherName...). */
    readonly otherNames: number;
  };
  readonly basicConstraints?: {
    readonly critical: boolean;
    readonly ca: boolean;
    readonly pathLength?: number;
  };
  /** KeyUsage as a bit mask: bit n of the mask is KeyUsage bit n (see KEY_USAGE). */
  readonly keyUsage?: { readonly critical: boolean; readonly bits: number };
  readonly extKeyUsage?: readonly string[];
  readonly subjectKeyId?: Buffer;
  readonly authorityKeyId?: Buffer;
}

/**
 * Reads an `extensions` SEQUENCE. A repeated extension is malformed (RFC 5280 §4.2: "MUST
 * NOT include more than one instance of a particular extension").
 * @throws MalformedDerError
 */
export function readExtensions(node: Asn1Node | undefined): CertificateExtensions {
  const all = new Map<string, RawExtension>();
  for (const ext of childrenOf(node, TAG.SEQUENCE, 'extensions')) {
    const fields = childrenOf(ext, TAG.SEQUENCE, 'extension');
    const id = oidOf(fields[0], 'extnID');
    let critical = false;
    let index = 1;
    if (isUniversal(fields[1], TAG.BOOLEAN)) {
      // DER: a FALSE default is omitted, and TRUE is 0xFF (X.690 §11.1, §11.5).
      if (bytesOf(fields[1], TAG.BOOLEAN, 'critical') !== '\xff') {
        throw new MalformedDerError('critical must be an encoded TRUE');
      }
      critical = true;
      index = 2;
    }
    const value = Buffer.from(bytesOf(fields[index], TAG.OCTETSTRING, 'extnValue'), 'latin1');
    if (fields.length !== index + 1) throw new MalformedDerError('extension has extra fields');
    if (all.has(id)) throw new MalformedDerError(`extension ${id} appears twice`);
    all.set(id, { critical, value });
  }
  const result: {
    -readonly [K in keyof CertificateExtensions]: CertificateExtensions[K];
  } = { all };
  const san = all.get(OID.subjectAltName);
  if (san) result.subjectAltName = { critical: san.critical, ...readGeneralNames(san.value) };
  const bc = all.get(OID.basicConstraints);
  if (bc) result.basicConstraints = { critical: bc.critical, ...readBasicConstraints(bc.value) };
  const ku = all.get(OID.keyUsage);
  if (ku) result.keyUsage = { critical: ku.critical, bits: readKeyUsage(ku.value) };
  const eku = all.get(OID.extKeyUsage);
  if (eku) {
    result.extKeyUsage = childrenOf(parseDer(eku.value), TAG.SEQUENCE, 'extKeyUsage').map((p) =>
      oidOf(p, 'KeyPurposeId'),
    );
  }
  const ski = all.get(OID.subjectKeyIdentifier);
  if (ski) {
    result.subjectKeyId = Buffer.from(
      bytesOf(parseDer(ski.value), TAG.OCTETSTRING, 'SKI'),
      'latin1',
    );
  }
  const aki = all.get(OID.authorityKeyIdentifier);
  if (aki) {
    const keyId = childrenOf(parseDer(aki.value), TAG.SEQUENCE, 'AKI').find((f) => isContext(f, 0));
    if (keyId !== undefined && typeof keyId.value === 'string') {
      result.authorityKeyId = Buffer.from(keyId.value, 'latin1');
    }
  }
  return result;
}

// @see RFC 5280 §4.2.1.6: dNSName [2] and uniformResourceIdentifier [6] are IA5String.
function readGeneralNames(der: Buffer) {
  const uris: string[] = [];
  const dnsNames: string[] = [];
  const ipAddresses: Buffer[] = [];
  let otherNames = 0;
  const names = childrenOf(parseDer(der), TAG.SEQUENCE, 'GeneralNames');
  if (names.length === 0) throw new MalformedDerError('subjectAltName must not be empty');
  for (const name of names) {
    const primitive =
      name.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && typeof name.value === 'string';
    if (primitive && name.type === 6) uris.push(ia5(name.value as string, 'URI'));
    else if (primitive && name.type === 2) dnsNames.push(ia5(name.value as string, 'dNSName'));
    else if (primitive && name.type === 7)
      ipAddresses.push(Buffer.from(name.value as string, 'latin1'));
    else otherNames++;
  }
  return { uris, dnsNames, ipAddresses, otherNames };
}

function ia5(value: string, what: string): string {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) throw new MalformedDerError(`${what} is not IA5String`);
  }
  return value;
}

// @see RFC 5280 §4.2.1.9
function readBasicConstraints(der: Buffer): { ca: boolean; pathLength?: number } {
  const fields = childrenOf(parseDer(der), TAG.SEQUENCE, 'basicConstraints');
  let index = 0;
  let ca = false;
  if (isUniversal(fields[0], TAG.BOOLEAN)) {
    // cA FALSE is the DEFAULT, so DER never encodes it.
    if (bytesOf(fields[0], TAG.BOOLEAN, 'cA') !== '\xff')
      throw new MalformedDerError('cA FALSE encoded');
    ca = true;
    index = 1;
  }
  if (index < fields.length) {
    const pathLength = smallIntegerOf(fields[index], 'pathLenConstraint');
    if (fields.length !== index + 1)
      throw new MalformedDerError('basicConstraints has extra fields');
    return { ca, pathLength };
  }
  return { ca };
}

// @see RFC 5280 §4.2.1.3; X.690 §8.6.2 (first content byte = unused bits)
function readKeyUsage(der: Buffer): number {
  const bytes = bytesOf(parseDer(der), TAG.BITSTRING, 'keyUsage');
  if (bytes.length < 2 || bytes.charCodeAt(0) > 7) throw new MalformedDerError('bad keyUsage');
  let mask = 0;
  for (let i = 1; i < bytes.length && i <= 2; i++) {
    const byte = bytes.charCodeAt(i);
    for (let bit = 0; bit < 8; bit++) {
      if (byte & (0x80 >> bit)) mask |= 1 << ((i - 1) * 8 + bit);
    }
  }
  return mask;
}
