// Building the X.509 v3 extensions SVIDs and CA certificates carry.
import { isIP } from 'node:net';
import {
  booleanTrue,
  encode,
  implicitPrimitive,
  namedBits,
  octetString,
  oid,
  sequence,
  smallInteger,
} from './der-writer.js';
import type { Asn1Node } from './der-writer.js';
import { OID } from './oids.js';

/** KeyUsage bit numbers. @see RFC 5280 §4.2.1.3 */
export const KEY_USAGE = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

/**
 * One Extension. `critical` FALSE is the DEFAULT, so DER leaves it out (X.690 §11.5).
 * @see RFC 5280 §4.1.2.9
 */
export function extension(id: string, critical: boolean, value: Asn1Node): Asn1Node {
  const fields = [oid(id)];
  if (critical) fields.push(booleanTrue());
  fields.push(octetString(encode(value)));
  return sequence(fields);
}

/** The names a subjectAltName lists. */
export interface AltNames {
  readonly uris: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

/**
 * subjectAltName. Critical when the subject is empty, as RFC 5280 §4.2.1.6 requires.
 * GeneralName tags: dNSName [2], uniformResourceIdentifier [6], iPAddress [7].
 * @see RFC 5280 §4.2.1.6
 */
export function subjectAltNameExtension(names: AltNames, critical: boolean): Asn1Node {
  const generalNames: Asn1Node[] = [];
  for (const uri of names.uris) generalNames.push(implicitPrimitive(6, uri));
  for (const dns of names.dnsNames ?? []) generalNames.push(implicitPrimitive(2, dns));
  for (const ip of names.ipAddresses ?? []) {
    generalNames.push(implicitPrimitive(7, ipAddressBytes(ip).toString('latin1')));
  }
  return extension(OID.subjectAltName, critical, sequence(generalNames));
}

/** The 4 or 16 network-order bytes of an IP address. @see RFC 5280 §4.2.1.6 (iPAddress) */
export function ipAddressBytes(ip: string): Buffer {
  const family = isIP(ip);
  if (family === 4) return Buffer.from(ip.split('.').map(Number));
  if (family !== 6) throw new Error(`not an IP address: ${ip}`);
  const bytes = Buffer.alloc(16);
  let text = ip;
  const percent = text.indexOf('%');
  if (percent >= 0) throw new Error('zone IDs have no place in a certificate');
  // An embedded IPv4 tail ("::ffff:1.2.3.4") becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? headGroups
      : [
          ...headGroups,
          ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'),
          ...tailGroups,
        ];
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

/** keyUsage, always critical for SVIDs. @see SPIFFE X509-SVID §4.3; RFC 5280 §4.2.1.3 */
export function keyUsageExtension(bits: readonly number[]): Asn1Node {
  return extension(OID.keyUsage, true, namedBits(bits));
}

/** extKeyUsage (non-critical). @see RFC 5280 §4.2.1.12 */
export function extKeyUsageExtension(purposes: readonly string[]): Asn1Node {
  return extension(OID.extKeyUsage, false, sequence(purposes.map((p) => oid(p))));
}

/**
 * basicConstraints, critical. For a leaf the SEQUENCE is empty: cA FALSE is the DEFAULT and
 * DER omits it.
 * @see RFC 5280 §4.2.1.9; SPIFFE X509-SVID §4.1
 */
export function basicConstraintsExtension(ca: boolean, pathLength?: number): Asn1Node {
  const fields: Asn1Node[] = [];
  if (ca) {
    fields.push(booleanTrue());
    if (pathLength !== undefined) fields.push(smallInteger(pathLength));
  }
  return extension(OID.basicConstraints, true, sequence(fields));
}

/** subjectKeyIdentifier. @see RFC 5280 §4.2.1.2 */
export function subjectKeyIdentifierExtension(keyId: Buffer): Asn1Node {
  return extension(OID.subjectKeyIdentifier, false, octetString(keyId));
}

/** authorityKeyIdentifier with keyIdentifier [0] only. @see RFC 5280 §4.2.1.1 */
export function authorityKeyIdentifierExtension(keyId: Buffer): Asn1Node {
  return extension(
    OID.authorityKeyIdentifier,
    false,
    sequence([implicitPrimitive(0, keyId.toString('latin1'))]),
  );
}
