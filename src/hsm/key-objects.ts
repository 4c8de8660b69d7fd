// Which token objects a Hallmark key is (CKA_ID, CKA_LABEL) and the templates that create them.
import { randomBytes, type KeyObject } from 'node:crypto';
import type { Attribute, Mechanism } from './pkcs11-api.js';
import { CKA, CKK, CKM, CKO } from './pkcs11-constants.js';

/** What a key in the token is for; part of its CKA_ID and CKA_LABEL. */
export type HsmKeyKind = 'ca' | 'access-token' | 'jwt-authority' | 'audit-checkpoint';

/** Key types generated in a token (the `ec-*` and `rsa-*` of the software key types). */
export type HsmKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072';

/** Names one key in the token: the same kind and id always find the same objects. */
export interface TokenKeyRef {
  readonly kind: HsmKeyKind;
  /**
   * The key's id in the token, which its database row stores (`pkcs11_id`): 1 to 64 of
   * `A-Z a-z 0-9 . _ -`. Hallmark's are {@link newTokenKeyRef}'s random ones, chosen before the
   * key exists (a kid that is a JWK thumbprint, or a CA's row id, is known only after).
   */
  readonly id: string;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;

function checkRef(ref: TokenKeyRef): void {
  if (!ID.test(ref.id)) throw new TypeError(`not a token key id: ${JSON.stringify(ref.id)}`);
}

/** A fresh reference for a key about to be generated: 128 random bits, as 32 hex digits. */
export function newTokenKeyRef(kind: HsmKeyKind): TokenKeyRef {
  return { kind, id: randomBytes(16).toString('hex') };
}

/**
 * CKA_ID of a key's objects: the UTF-8 bytes of `<kind>:<id>`, so a database row's
 * `pkcs11_id` finds its key only among keys of the row's own kind, and
 * `pkcs11-tool --list-objects` shows which row an object belongs to.
 */
export function keyObjectId(ref: TokenKeyRef): Buffer {
  checkRef(ref);
  return Buffer.from(`${ref.kind}:${ref.id}`, 'utf8');
}

/** CKA_LABEL of a key's objects: `hallmark:<kind>:<id>`. */
export function keyLabel(ref: TokenKeyRef): string {
  checkRef(ref);
  return `hallmark:${ref.kind}:${ref.id}`;
}

/** The token key type of a node:crypto key of the same shape, or `undefined`. */
export function hsmKeyTypeOf(key: KeyObject): HsmKeyType | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return 'ec-p256';
    if (details?.namedCurve === 'secp384r1') return 'ec-p384';
    return undefined;
  }
  if (key.asymmetricKeyType === 'rsa') {
    if (details?.modulusLength === 2048) return 'rsa-2048';
    if (details?.modulusLength === 3072) return 'rsa-3072';
  }
  return undefined;
}

/** DER of the named curve OIDs for CKA_EC_PARAMS (RFC 5480 §2.1.1.1). */
export const EC_PARAMS: Readonly<Record<'ec-p256' | 'ec-p384', Buffer>> = {
  'ec-p256': Buffer.from('06082a8648ce3d030107', 'hex'), // 1.2.840.10045.3.1.7 secp256r1
  'ec-p384': Buffer.from('06052b81040022', 'hex'), // 1.3.132.0.34 secp384r1
};

/** Byte length of a curve's field elements (and so of r and s). */
export const EC_FIELD_BYTES: Readonly<Record<'ec-p256' | 'ec-p384', number>> = {
  'ec-p256': 32,
  'ec-p384': 48,
};

/** True for the ECDSA key types. */
export function isEcType(type: HsmKeyType): type is 'ec-p256' | 'ec-p384' {
  return type === 'ec-p256' || type === 'ec-p384';
}

/** The mechanism and both templates of C_GenerateKeyPair for one key. */
export interface KeyPairRequest {
  readonly mechanism: Mechanism;
  readonly publicTemplate: Attribute[];
  readonly privateTemplate: Attribute[];
}

/**
 * Templates for a signing key pair whose private half can never leave the token: a token
 * object, private (login required), sensitive and not extractable (PKCS #11 v2.40 §4.9), usable
 * only to sign. The public half is a token object too, so the key's public value can be read
 * again after a restart.
 */
export function keyPairRequest(ref: TokenKeyRef, type: HsmKeyType): KeyPairRequest {
  const id = keyObjectId(ref);
  const label = keyLabel(ref);
  const keyType = isEcType(type) ? CKK.EC : CKK.RSA;
  const common: Attribute[] = [
    { type: CKA.KEY_TYPE, value: keyType },
    { type: CKA.TOKEN, value: true },
    { type: CKA.ID, value: id },
    { type: CKA.LABEL, value: label },
  ];
  const publicTemplate: Attribute[] = [
    { type: CKA.CLASS, value: CKO.PUBLIC_KEY },
    ...common,
    { type: CKA.PRIVATE, value: false },
    { type: CKA.VERIFY, value: true },
    ...(isEcType(type)
      ? [{ type: CKA.EC_PARAMS, value: EC_PARAMS[type] }]
      : [
          { type: CKA.MODULUS_BITS, value: type === 'rsa-2048' ? 2048 : 3072 },
          { type: CKA.PUBLIC_EXPONENT, value: Buffer.from([0x01, 0x00, 0x01]) },
        ]),
  ];
  const privateTemplate: Attribute[] = [
    { type: CKA.CLASS, value: CKO.PRIVATE_KEY },
    ...common,
    { type: CKA.PRIVATE, value: true },
    { type: CKA.SENSITIVE, value: true },
    { type: CKA.EXTRACTABLE, value: false },
    { type: CKA.SIGN, value: true },
    { type: CKA.DECRYPT, value: false },
    { type: CKA.UNWRAP, value: false },
    { type: CKA.DERIVE, value: false },
  ];
  const mechanism = { mechanism: isEcType(type) ? CKM.EC_KEY_PAIR_GEN : CKM.RSA_PKCS_KEY_PAIR_GEN };
  return { mechanism, publicTemplate, privateTemplate };
}
