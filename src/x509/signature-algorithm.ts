// Signature algorithms: which ones we sign with, which ones we verify, and how node:crypto runs them.
import { constants, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  MalformedDerError,
  TAG,
  childrenOf,
  isContext,
  isUniversal,
  oidOf,
  smallIntegerOf,
} from './der-reader.js';
import { nullValue, oid, sequence } from './der-writer.js';
import type { Asn1Node } from './der-writer.js';
import { OID } from './oids.js';

type Hash = 'sha256' | 'sha384' | 'sha512';

/** A signature algorithm node:crypto can run, with the AlgorithmIdentifier that names it. */
export interface SignatureAlgorithm {
  /** Readable name, e.g. `ecdsa-with-SHA256`. */
  readonly name: string;
  readonly oid: string;
  /** Digest for node:crypto; `null` for Ed25519, which hashes internally. */
  readonly hash: Hash | null;
  /** The public key family that can verify it. */
  readonly keyFamily: 'ec' | 'rsa' | 'ed25519';
  /** RSASSA-PSS salt length; absent for every other algorithm. */
  readonly pssSaltLength?: number;
}

const ECDSA: Record<string, Hash> = {
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
};
const RSA_PKCS1: Record<string, Hash> = {
  [OID.sha256WithRsa]: 'sha256',
  [OID.sha384WithRsa]: 'sha384',
  [OID.sha512WithRsa]: 'sha512',
};
const HASHES: Record<string, Hash> = {
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

const ECDSA_SHA256: SignatureAlgorithm = {
  name: 'ecdsa-with-SHA256',
  oid: OID.ecdsaWithSha256,
  hash: 'sha256',
  keyFamily: 'ec',
};
const ECDSA_SHA384: SignatureAlgorithm = {
  name: 'ecdsa-with-SHA384',
  oid: OID.ecdsaWithSha384,
  hash: 'sha384',
  keyFamily: 'ec',
};
const RSA_SHA256: SignatureAlgorithm = {
  name: 'sha256WithRSAEncryption',
  oid: OID.sha256WithRsa,
  hash: 'sha256',
  keyFamily: 'rsa',
};
const ED25519: SignatureAlgorithm = {
  name: 'Ed25519',
  oid: OID.ed25519,
  hash: null,
  keyFamily: 'ed25519',
};

/**
 * The algorithm we sign with for a private key: ECDSA with SHA-256 for P-256 and SHA-384 for
 * P-384, sha256WithRSAEncryption for RSA, Ed25519 for Ed25519. `undefined` for other keys.
 * @see RFC 5758 §3.2, RFC 4055 §5, RFC 8410 §3
 */
export function signingAlgorithmFor(key: KeyObject): SignatureAlgorithm | undefined {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return ECDSA_SHA256;
      if (curve === 'secp384r1') return ECDSA_SHA384;
      return undefined;
    }
    case 'rsa':
      return RSA_SHA256;
    case 'ed25519':
      return ED25519;
    default:
      return undefined;
  }
}

/**
 * The AlgorithmIdentifier we emit: parameters absent for ECDSA and Ed25519, NULL for
 * PKCS#1 v1.5 RSA. (We never sign with RSASSA-PSS.)
 * @see RFC 5758 §3.2, RFC 8410 §3, RFC 4055 §5
 */
export function algorithmIdentifier(algorithm: SignatureAlgorithm): Asn1Node {
  return algorithm.keyFamily === 'rsa'
    ? sequence([oid(algorithm.oid), nullValue()])
    : sequence([oid(algorithm.oid)]);
}

/**
 * Reads an AlgorithmIdentifier we are willing to verify: ECDSA or PKCS#1 v1.5 RSA with
 * SHA-256/384/512, RSASSA-PSS with SHA-256/384/512 and MGF1 over the same hash, or Ed25519.
 * Returns `undefined` for anything else (SHA-1, MD5, DSA...).
 * @throws MalformedDerError when the structure itself is wrong.
 */
export function readSignatureAlgorithm(node: Asn1Node | undefined): SignatureAlgorithm | undefined {
  const [algorithmOid, parameters, extra] = childrenOf(node, TAG.SEQUENCE, 'AlgorithmIdentifier');
  if (extra !== undefined) throw new MalformedDerError('AlgorithmIdentifier: too many fields');
  const id = oidOf(algorithmOid, 'algorithm');
  const ecdsaHash = ECDSA[id];
  if (ecdsaHash !== undefined) {
    // RFC 5758 §3.2: parameters MUST be absent.
    if (parameters !== undefined) throw new MalformedDerError('ECDSA parameters must be absent');
    return {
      name: `ecdsa-with-${ecdsaHash.toUpperCase()}`,
      oid: id,
      hash: ecdsaHash,
      keyFamily: 'ec',
    };
  }
  const rsaHash = RSA_PKCS1[id];
  if (rsaHash !== undefined) {
    // RFC 4055 §5: parameters MUST be NULL, and implementations MUST accept them absent.
    if (parameters !== undefined && !isUniversal(parameters, TAG.NULL)) {
      throw new MalformedDerError('RSA signature parameters must be NULL');
    }
    return { name: `${rsaHash}WithRSAEncryption`, oid: id, hash: rsaHash, keyFamily: 'rsa' };
  }
  if (id === OID.ed25519) {
    if (parameters !== undefined) throw new MalformedDerError('Ed25519 parameters must be absent');
    return ED25519;
  }
  if (id === OID.rsassaPss) return readPssParameters(parameters);
  return undefined;
}

/**
 * RSASSA-PSS-params. The ASN.1 defaults are SHA-1, which we refuse, so hash and MGF must be
 * present; node:crypto always uses MGF1 over the signature hash, so they must agree.
 * @see RFC 4055 §3.1
 */
function readPssParameters(parameters: Asn1Node | undefined): SignatureAlgorithm | undefined {
  const fields = childrenOf(parameters, TAG.SEQUENCE, 'RSASSA-PSS-params');
  let hash: Hash | undefined;
  let mgfHash: Hash | undefined;
  let saltLength = 20;
  let lastTag = -1;
  for (const field of fields) {
    const tag = field.type as number;
    if (!isContext(field, tag) || tag <= lastTag || tag > 3 || !Array.isArray(field.value)) {
      throw new MalformedDerError('RSASSA-PSS-params: unexpected field');
    }
    lastTag = tag;
    const inner = field.value[0];
    if (tag === 0) hash = hashOf(inner);
    else if (tag === 1) {
      const [mgfOid, mgfParameters] = childrenOf(inner, TAG.SEQUENCE, 'maskGenAlgorithm');
      if (oidOf(mgfOid, 'maskGenAlgorithm') !== OID.mgf1) return undefined;
      mgfHash = hashOf(mgfParameters);
    } else if (tag === 2) saltLength = smallIntegerOf(inner, 'saltLength');
    else if (smallIntegerOf(inner, 'trailerField') !== 1) return undefined;
  }
  if (hash === undefined || mgfHash !== hash) return undefined;
  return {
    name: `RSASSA-PSS-${hash.toUpperCase()}`,
    oid: OID.rsassaPss,
    hash,
    keyFamily: 'rsa',
    pssSaltLength: saltLength,
  };
}

function hashOf(node: Asn1Node | undefined): Hash | undefined {
  const [hashOid, parameters] = childrenOf(node, TAG.SEQUENCE, 'hashAlgorithm');
  if (parameters !== undefined && !isUniversal(parameters, TAG.NULL)) {
    throw new MalformedDerError('hash parameters must be NULL or absent');
  }
  return HASHES[oidOf(hashOid, 'hashAlgorithm')];
}

/** Signs `data` with node:crypto (DER-encoded ECDSA signatures, as X.509 wants). */
export function signData(algorithm: SignatureAlgorithm, key: KeyObject, data: Buffer): Buffer {
  return sign(algorithm.hash, data, key);
}

/**
 * True when `signature` over `data` verifies under `key` with `algorithm`. A key of the wrong
 * family or a garbled signature is simply `false`.
 */
export function verifyData(
  algorithm: SignatureAlgorithm,
  key: KeyObject,
  data: Buffer,
  signature: Buffer,
): boolean {
  if (keyFamily(key) !== algorithm.keyFamily) return false;
  try {
    if (algorithm.pssSaltLength !== undefined) {
      return verify(
        algorithm.hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.pssSaltLength },
        signature,
      );
    }
    return verify(algorithm.hash, data, key, signature);
  } catch {
    // OpenSSL reports some malformed signatures as errors rather than as a failed check.
    return false;
  }
}

/** The family of a node:crypto key as {@link SignatureAlgorithm.keyFamily} names it. */
export function keyFamily(key: KeyObject): SignatureAlgorithm['keyFamily'] | undefined {
  const type = key.asymmetricKeyType;
  return type === 'ec' || type === 'rsa' || type === 'ed25519' ? type : undefined;
}
