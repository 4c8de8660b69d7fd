// X.500 distinguished names for CA certificates (leaf SVIDs carry an empty one).
import { encode, oid, printableString, sequence, set, utf8String } from './der-writer.js';
import { OID } from './oids.js';

/** The attributes a Hallmark CA subject may carry, most significant first. */
export interface NameAttributes {
  readonly organization?: string;
  readonly commonName?: string;
  /** X.520 serialNumber: we put the CA certificate's serial here so successive CAs differ. */
  readonly serialNumber?: string;
}

/** Upper bounds from RFC 5280 Appendix A.1 (ub-organization-name, ub-common-name, ub-serial-number). */
export const NAME_LIMITS = { organization: 64, commonName: 64, serialNumber: 64 } as const;

/** DER of the empty Name (`SEQUENCE {}`), the subject of every leaf SVID. */
export const EMPTY_NAME_DER: Buffer = encode(sequence([]));

/**
 * DER of a Name with one attribute per RDN. Strings are UTF8String except serialNumber, which
 * X.520 defines as PrintableString.
 * @see RFC 5280 §4.1.2.4, §4.1.2.6
 */
export function buildName(attributes: NameAttributes): Buffer {
  const rdns = [];
  if (attributes.organization !== undefined) {
    rdns.push(set([sequence([oid(OID.organizationName), utf8String(attributes.organization)])]));
  }
  if (attributes.commonName !== undefined) {
    rdns.push(set([sequence([oid(OID.commonName), utf8String(attributes.commonName)])]));
  }
  if (attributes.serialNumber !== undefined) {
    rdns.push(set([sequence([oid(OID.serialNumber), printableString(attributes.serialNumber)])]));
  }
  return encode(sequence(rdns));
}
