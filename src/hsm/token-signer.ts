// Signing with a token key through an async, node:crypto-like interface.
import { createHash, type KeyObject } from 'node:crypto';
import { rawToDer } from './ecdsa-signature.js';
import { EC_FIELD_BYTES, isEcType, type HsmKeyType, type TokenKeyRef } from './key-objects.js';
import type { Mechanism } from './pkcs11-api.js';
import { CKG, CKM, CK_PARAMS_RSA_PSS } from './pkcs11-constants.js';
import type { TokenKeys } from './token-keys.js';

/** Digests a signature can use. */
export type SignatureHash = 'sha256' | 'sha384' | 'sha512';

/** How to sign, with node:crypto's names and defaults. */
export interface SignOptions {
  /** Default: SHA-384 for P-384 keys, SHA-256 otherwise. */
  readonly hash?: SignatureHash;
  /** ECDSA only: `der` (X.509, node:crypto's default) or `ieee-p1363` (r‖s, as JWS). */
  readonly format?: 'der' | 'ieee-p1363';
  /** RSA only: PKCS#1 v1.5 (default) or PSS with a salt as long as the digest. */
  readonly padding?: 'pkcs1' | 'pss';
}

/** A private key that signs somewhere else (a token) and only returns signatures. */
export interface KeySigner {
  readonly keyType: HsmKeyType;
  readonly publicKey: KeyObject;
  /** Like node:crypto's `sign(hash, data, key)`, asynchronous. */
  sign(data: Buffer, options?: SignOptions): Promise<Buffer>;
}

const HASH_BYTES: Readonly<Record<SignatureHash, number>> = {
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

const RSA_PKCS1 = {
  sha256: CKM.SHA256_RSA_PKCS,
  sha384: CKM.SHA384_RSA_PKCS,
  sha512: CKM.SHA512_RSA_PKCS,
} as const;

// PKCS #11 v2.40 §2.1.15: CK_RSA_PKCS_PSS_PARAMS repeat the hash, MGF1 with it, salt length.
const RSA_PSS = {
  sha256: { mechanism: CKM.SHA256_RSA_PKCS_PSS, hashAlg: CKM.SHA256, mgf: CKG.MGF1_SHA256 },
  sha384: { mechanism: CKM.SHA384_RSA_PKCS_PSS, hashAlg: CKM.SHA384, mgf: CKG.MGF1_SHA384 },
  sha512: { mechanism: CKM.SHA512_RSA_PKCS_PSS, hashAlg: CKM.SHA512, mgf: CKG.MGF1_SHA512 },
} as const;

/** A key pair in the token: its public half here, C_Sign for the private half. */
export class TokenSigner implements KeySigner {
  constructor(
    readonly ref: TokenKeyRef,
    readonly keyType: HsmKeyType,
    readonly publicKey: KeyObject,
    private readonly keys: TokenKeys,
  ) {}

  /**
   * Signs `data`. ECDSA: the digest is computed here and CKM_ECDSA signs it (tokens differ in
   * which hash-and-sign ECDSA mechanisms they offer; all offer CKM_ECDSA); the raw r‖s it
   * returns is DER-encoded unless `ieee-p1363` is asked for. RSA: CKM_SHAx_RSA_PKCS(_PSS) hashes
   * in the token.
   *
   * @throws HsmUnavailableError when the token or the key cannot be reached.
   */
  async sign(data: Buffer, options: SignOptions = {}): Promise<Buffer> {
    const type = this.keyType;
    const hash = options.hash ?? (type === 'ec-p384' ? 'sha384' : 'sha256');
    if (isEcType(type)) {
      if (options.padding !== undefined) throw new TypeError('padding applies to RSA keys only');
      const size = EC_FIELD_BYTES[type];
      const digest = createHash(hash).update(data).digest();
      const raw = await this.keys.signRaw(this.ref, { mechanism: CKM.ECDSA }, digest, 2 * size);
      return options.format === 'ieee-p1363' ? raw : rawToDer(raw, size);
    }
    if (options.format === 'ieee-p1363') throw new TypeError('ieee-p1363 is an ECDSA encoding');
    const mechanism: Mechanism =
      options.padding === 'pss'
        ? {
            mechanism: RSA_PSS[hash].mechanism,
            parameter: {
              type: CK_PARAMS_RSA_PSS,
              hashAlg: RSA_PSS[hash].hashAlg,
              mgf: RSA_PSS[hash].mgf,
              saltLen: HASH_BYTES[hash],
            },
          }
        : { mechanism: RSA_PKCS1[hash] };
    const modulusBytes = (this.publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
    return this.keys.signRaw(this.ref, mechanism, data, modulusBytes);
  }
}
