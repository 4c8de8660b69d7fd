// X509-SVID issuance: CSR in, certificate out — build the template, sign it, validate the result.
import { isIP } from 'node:net';
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../clock/index.js';
import { HallmarkError, isHallmarkError } from '../errors/index.js';
import { isMemberOf, parseSpiffeId } from '../spiffe/index.js';
import type { SpiffeId } from '../spiffe/index.js';
import {
  BACKDATE_SECONDS,
  buildTbsCertificate,
  randomSerial,
  certificateDer,
  serialHex,
  wholeSeconds,
} from './certificate-builder.js';
import { verifyCsr } from './csr.js';
import { encodedOnce } from './der-writer.js';
import type { Asn1Node } from './der-writer.js';
import { EMPTY_NAME_DER } from './distinguished-name.js';
import {
  KEY_USAGE,
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  extKeyUsageExtension,
  keyUsageExtension,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
} from './extension-builder.js';
import { OID } from './oids.js';
import { encodePem } from './pem.js';
import { prepareAuthority, signProven } from './signing-authority.js';
import type { PreparedAuthority, SigningAuthority } from './signing-authority.js';
import {
  describeKeyObject,
  isRefusal,
  keyIdentifier,
  spkiFingerprint,
} from './subject-public-key.js';
import type { PublicKeyInfo } from './subject-public-key.js';
import { checkIssuedLeaf } from './issued-leaf-check.js';

/** An issued X509-SVID. */
export interface IssuedSvid {
  /** The leaf certificate (PEM). */
  readonly certificatePem: string;
  /** Leaf first, then the authority chain (the root, held in the bundle, is not included). */
  readonly chainPem: string[];
  /** Serial number, lowercase hex of its magnitude (as `X509Certificate.serialNumber`, lowercased). */
  readonly serialHex: string;
  readonly spiffeId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 (hex) of the certified SubjectPublicKeyInfo DER. */
  readonly publicKeyFingerprint: string;
}

/** Input of {@link issueX509Svid}. */
export interface X509SvidRequest {
  readonly csrPem: string;
  readonly spiffeId: SpiffeId;
  readonly ttlSeconds: number;
  /** Checked and parsed once per private-key object and certificate (see prepareAuthority). */
  readonly authority: SigningAuthority | PreparedAuthority;
  readonly clock: Clock;
}

/**
 * Issues an X509-SVID for the key in `csrPem`. The CSR contributes its public key only (its
 * signature is verified); the certificate says: v3, 128-bit random serial, issuer = CA
 * subject, empty subject, notBefore = now − 10 s, notAfter = min(now + TTL, CA notAfter), one
 * critical URI SAN (the SPIFFE ID), critical keyUsage digitalSignature (+keyEncipherment for
 * RSA), extKeyUsage serverAuth+clientAuth, critical basicConstraints cA=false, subject and
 * authority key identifiers. The signed certificate is re-parsed and checked before return.
 * The CA key signs in this process or, through its signer, in a PKCS#11 token.
 *
 * @throws HallmarkError `ERR_CSR_*` for the CSR, `ERR_X509_TEMPLATE_INVALID` for a bad TTL or
 *   an ID outside the CA's trust domain, `ERR_CA_UNAVAILABLE` for an unusable or expired
 *   CA or a token that cannot sign, `ERR_X509_SVID_INVALID` if the result fails validation.
 */
export async function issueX509Svid(input: X509SvidRequest): Promise<IssuedSvid> {
  const csr = verifyCsr(input.csrPem);
  return issueLeaf(input, csr.publicKeyInfo, [], []);
}

/** Input of {@link issueServerSvid}. */
export interface ServerSvidRequest {
  /** e.g. `spiffe://<td>/hallmark/server`. */
  readonly spiffeId: SpiffeId;
  readonly publicKey: KeyObject;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly ttlSeconds: number;
  readonly authority: SigningAuthority | PreparedAuthority;
  readonly clock: Clock;
}

/**
 * Issues the server's own serving certificate: an X509-SVID (as {@link issueX509Svid}) whose
 * subjectAltName also lists DNS names and IP addresses, so ordinary HTTPS clients can check
 * the hostname while SPIFFE clients check the URI SAN.
 *
 * @throws HallmarkError `ERR_X509_TEMPLATE_INVALID` for a bad key, name or address, and the
 *   errors of {@link issueX509Svid}.
 */
export async function issueServerSvid(input: ServerSvidRequest): Promise<IssuedSvid> {
  const keyInfo = describeKeyObject(input.publicKey);
  if (isRefusal(keyInfo)) throw templateError(`server key not accepted: ${keyInfo.detail}`);
  const dnsNames = input.dnsNames.map(checkDnsName);
  for (const ip of input.ipAddresses) {
    if (isIP(ip) === 0 || ip.includes('%')) throw templateError(`not an IP address: ${ip}`);
  }
  return issueLeaf(input, keyInfo, dnsNames, [...input.ipAddresses]);
}

// Constant extensions are shared by every certificate (forge nodes are not changed by encoding).
const KEY_USAGE_SIGNING = encodedOnce(keyUsageExtension([KEY_USAGE.digitalSignature]));
// @see SPIFFE X509-SVID §4.3: keyEncipherment "mostly make[s] sense only for ... RSA keys".
const KEY_USAGE_RSA = encodedOnce(
  keyUsageExtension([KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment]),
);
const EXT_KEY_USAGE = encodedOnce(extKeyUsageExtension([OID.serverAuth, OID.clientAuth]));
const LEAF_BASIC_CONSTRAINTS = encodedOnce(basicConstraintsExtension(false));
const authorityKeyIds = new WeakMap<PreparedAuthority, Asn1Node>();

interface LeafRequest {
  readonly spiffeId: SpiffeId;
  readonly ttlSeconds: number;
  readonly authority: SigningAuthority | PreparedAuthority;
  readonly clock: Clock;
}

async function issueLeaf(
  request: LeafRequest,
  keyInfo: PublicKeyInfo,
  dnsNames: string[],
  ipAddresses: string[],
): Promise<IssuedSvid> {
  const authority = prepareAuthority(request.authority);
  const spiffeId = revalidate(request.spiffeId);
  if (spiffeId.path === '') throw templateError('a leaf SVID needs a SPIFFE ID with a path');
  const caId = authoritySpiffeId(authority);
  if (caId !== undefined && !isMemberOf(spiffeId, caId.trustDomain)) {
    throw templateError(`${spiffeId.toString()} is outside the CA's trust domain`);
  }
  const ttl = request.ttlSeconds;
  if (!Number.isSafeInteger(ttl) || ttl < 1) throw templateError(`bad TTL ${ttl}`);

  const now = request.clock.now();
  if (now < authority.notBefore.getTime() || now >= authority.notAfter.getTime()) {
    throw new HallmarkError('ERR_CA_UNAVAILABLE', { detail: 'CA certificate is not valid now' });
  }
  const notBefore = wholeSeconds(
    Math.max(now - BACKDATE_SECONDS * 1000, authority.notBefore.getTime()),
  );
  const notAfter = wholeSeconds(Math.min(now + ttl * 1000, authority.notAfter.getTime()));
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new HallmarkError('ERR_CA_UNAVAILABLE', { detail: 'CA certificate expires too soon' });
  }

  let aki = authorityKeyIds.get(authority);
  if (aki === undefined) {
    aki = encodedOnce(authorityKeyIdentifierExtension(authority.keyId));
    authorityKeyIds.set(authority, aki);
  }
  const serial = randomSerial();
  const uri = spiffeId.toString();
  const tbs = buildTbsCertificate({
    serial,
    signatureAlgorithm: authority.signatureAlgorithm,
    issuerDer: authority.certificate.subjectDer,
    subjectDer: EMPTY_NAME_DER,
    notBefore,
    notAfter,
    spkiDer: keyInfo.spkiDer,
    extensions: [
      // @see RFC 5280 §4.2.1.6: critical because the subject is empty.
      subjectAltNameExtension({ uris: [uri], dnsNames, ipAddresses }, true),
      keyInfo.kind === 'rsa' ? KEY_USAGE_RSA : KEY_USAGE_SIGNING,
      EXT_KEY_USAGE,
      LEAF_BASIC_CONSTRAINTS,
      subjectKeyIdentifierExtension(keyIdentifier(keyInfo)),
      aki,
    ],
  });
  const der = certificateDer(tbs, authority.signatureAlgorithm, await signProven(authority, tbs));
  // SPIRE's order: build, sign, then validate what was actually produced before it leaves.
  checkIssuedLeaf(der, {
    authority,
    spiffeId: uri,
    serial,
    notBefore,
    notAfter,
    keyInfo,
    dnsNames,
    ipAddresses,
  });

  const certificatePem = encodePem(der, 'CERTIFICATE');
  return {
    certificatePem,
    chainPem: [certificatePem, ...authority.chainPem],
    serialHex: serialHex(serial),
    spiffeId: uri,
    notBefore,
    notAfter,
    publicKeyFingerprint: spkiFingerprint(keyInfo.spkiDer),
  };
}

function revalidate(id: SpiffeId): SpiffeId {
  // SpiffeId is an interface, so re-check: a hand-made object must not reach a certificate.
  try {
    return parseSpiffeId(String(id));
  } catch (err) {
    if (isHallmarkError(err)) throw templateError(`bad SPIFFE ID: ${err.message}`);
    throw err;
  }
}

const caIds = new WeakMap<PreparedAuthority, SpiffeId | null>();

function authoritySpiffeId(authority: PreparedAuthority): SpiffeId | undefined {
  let id = caIds.get(authority);
  if (id === undefined) {
    const uri = authority.certificate.extensions.subjectAltName?.uris.find((u) =>
      u.startsWith('spiffe://'),
    );
    id = uri === undefined ? null : parseSpiffeId(uri);
    caIds.set(authority, id);
  }
  return id ?? undefined;
}

// @see RFC 1123 §2.1, RFC 5280 §4.2.1.6 (dNSName in "preferred name syntax"); no wildcards.
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function checkDnsName(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length > 253 || !lower.split('.').every((label) => DNS_LABEL.test(label))) {
    throw templateError(`not a DNS name: ${name}`);
  }
  return lower;
}

function templateError(detail: string): HallmarkError {
  return new HallmarkError('ERR_X509_TEMPLATE_INVALID', { detail });
}
