// Hallmark's keys in the token: generate, find by CKA_ID, sign with C_Sign, destroy, list.
import type { KeyObject } from 'node:crypto';
import { endianness } from 'node:os';
import { ConfigError } from '../config/index.js';
import { HsmUnavailableError } from './hsm-error.js';
import {
  EC_PARAMS,
  isEcType,
  keyLabel,
  keyObjectId,
  keyPairRequest,
  type HsmKeyType,
  type TokenKeyRef,
} from './key-objects.js';
import type { Attribute, Handle, Mechanism, Pkcs11Api } from './pkcs11-api.js';
import { CKA, CKK, CKO } from './pkcs11-constants.js';
import { failureKind } from './pkcs11-failure.js';
import { KeyNotFound, type TokenSessionPool } from './token-session-pool.js';
import { ecPublicKey, rsaPublicKey } from './token-public-key.js';
import { TokenSigner } from './token-signer.js';

/** A key object as listed from the token, for checks and tests. */
export interface TokenObject {
  readonly class: 'private' | 'public';
  readonly keyType: 'ec' | 'rsa' | 'other';
  readonly id: Buffer;
  readonly label: string;
  readonly token: boolean;
  readonly private: boolean;
  /** Private keys only: CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ALWAYS_SENSITIVE, ... */
  readonly sensitive?: boolean;
  readonly extractable?: boolean;
  readonly alwaysSensitive?: boolean;
  readonly neverExtractable?: boolean;
  readonly sign?: boolean;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** A CK_ULONG attribute, in the host's byte order. */
function ulong(value: Buffer): number {
  if (value.length === 8) {
    return Number(LITTLE_ENDIAN ? value.readBigUInt64LE() : value.readBigUInt64BE());
  }
  return LITTLE_ENDIAN ? value.readUInt32LE() : value.readUInt32BE();
}

const bool = (value: Buffer): boolean => value.length > 0 && value[0] !== 0;

function attributes(api: Pkcs11Api, session: Handle, object: Handle, types: number[]): Buffer[] {
  const result = api.C_GetAttributeValue(
    session,
    object,
    types.map((type) => ({ type })),
  );
  return types.map((type) => result.find((a) => a.type === type)?.value ?? Buffer.alloc(0));
}

function findObjects(api: Pkcs11Api, session: Handle, template: Attribute[]): Handle[] {
  api.C_FindObjectsInit(session, template);
  try {
    const found: Handle[] = [];
    for (let batch = api.C_FindObjects(session, 64); batch.length > 0;) {
      found.push(...batch);
      batch = api.C_FindObjects(session, 64);
    }
    return found;
  } finally {
    api.C_FindObjectsFinal(session);
  }
}

const keyTemplate = (ref: TokenKeyRef, objectClass: number): Attribute[] => [
  { type: CKA.CLASS, value: objectClass },
  { type: CKA.ID, value: keyObjectId(ref) },
];

/** The key pairs Hallmark keeps in one token, addressed by kind and key id. */
export class TokenKeys {
  readonly #pool: TokenSessionPool;
  /** Private key handles by CKA_ID (hex), valid for the pool generation they were found in. */
  readonly #handles = new Map<string, { generation: number; handle: Handle }>();

  constructor(pool: TokenSessionPool) {
    this.#pool = pool;
  }

  /**
   * Generates a key pair inside the token (the private key sensitive and never extractable)
   * and returns its signer.
   *
   * @throws Error when the token already holds a key for `ref`; HsmUnavailableError.
   */
  async generate(ref: TokenKeyRef, type: HsmKeyType): Promise<TokenSigner> {
    const request = keyPairRequest(ref, type);
    const publicKey = await this.#pool.run(async (api, session) => {
      const existing = findObjects(api, session, [{ type: CKA.ID, value: keyObjectId(ref) }]);
      if (existing.length > 0) throw new Error(`the token already holds ${keyLabel(ref)}`);
      const pair = await api.C_GenerateKeyPairAsync(
        session,
        request.mechanism,
        request.publicTemplate,
        request.privateTemplate,
      );
      return readPublicKey(api, session, pair.publicKey, type);
    });
    return new TokenSigner(ref, type, publicKey, this);
  }

  /**
   * The signer of a key already in the token; its type and public key are read from the token.
   *
   * @throws HsmUnavailableError `key-missing` when the token holds no such key.
   */
  async signer(ref: TokenKeyRef): Promise<TokenSigner> {
    const { type, publicKey } = await this.#pool.run((api, session) => {
      const [publicHandle] = findObjects(api, session, keyTemplate(ref, CKO.PUBLIC_KEY));
      const [privateHandle] = findObjects(api, session, keyTemplate(ref, CKO.PRIVATE_KEY));
      if (publicHandle === undefined || privateHandle === undefined) {
        throw new KeyNotFound(`no key pair ${keyLabel(ref)} in the token`);
      }
      const keyType = typeOf(api, session, publicHandle);
      return { type: keyType, publicKey: readPublicKey(api, session, publicHandle, keyType) };
    });
    return new TokenSigner(ref, type, publicKey, this);
  }

  /**
   * The signers of keys the database says are in the token, checked at start.
   *
   * @throws ConfigError naming `HALLMARK_PKCS11_TOKEN` when one is missing: the configured
   *   token is not the one these keys were generated in.
   */
  async signersAtStart(refs: readonly TokenKeyRef[]): Promise<TokenSigner[]> {
    const signers: TokenSigner[] = [];
    for (const ref of refs) {
      try {
        signers.push(await this.signer(ref));
      } catch (err) {
        if (err instanceof HsmUnavailableError && err.reason === 'key-missing') {
          throw new ConfigError(
            'HALLMARK_PKCS11_TOKEN',
            `token "${this.#pool.tokenLabel}" holds no key ${keyLabel(ref)}, which the database uses`,
          );
        }
        throw err;
      }
    }
    return signers;
  }

  /** Destroys both objects of a key (C_DestroyObject); false when there was none. */
  async destroy(ref: TokenKeyRef): Promise<boolean> {
    this.#handles.delete(keyObjectId(ref).toString('hex'));
    return this.#pool.run((api, session) => {
      const objects = findObjects(api, session, [{ type: CKA.ID, value: keyObjectId(ref) }]);
      for (const object of objects) api.C_DestroyObject(session, object);
      return objects.length > 0;
    });
  }

  /** Every key object the logged-in user sees, with its protection attributes. */
  async list(): Promise<TokenObject[]> {
    return this.#pool.run((api, session) => [
      ...findObjects(api, session, [{ type: CKA.CLASS, value: CKO.PRIVATE_KEY }]).map((o) =>
        describeObject(api, session, o, 'private'),
      ),
      ...findObjects(api, session, [{ type: CKA.CLASS, value: CKO.PUBLIC_KEY }]).map((o) =>
        describeObject(api, session, o, 'public'),
      ),
    ]);
  }

  /**
   * Signs `input` with the key's private object through C_SignInit and C_Sign, on a pool session.
   * A stale handle (the key looked up under an earlier connection) is looked up again.
   */
  async signRaw(
    ref: TokenKeyRef,
    mechanism: Mechanism,
    input: Buffer,
    outputLength: number,
  ): Promise<Buffer> {
    return this.#pool.run(async (api, session, generation) => {
      const handle = this.#privateHandle(api, session, generation, ref);
      try {
        api.C_SignInit(session, mechanism, handle);
      } catch (err) {
        if (failureKind(err) !== 'object') throw err;
        this.#handles.delete(keyObjectId(ref).toString('hex'));
        api.C_SignInit(session, mechanism, this.#privateHandle(api, session, generation, ref));
      }
      return api.C_SignAsync(session, input, Buffer.alloc(outputLength));
    });
  }

  #privateHandle(api: Pkcs11Api, session: Handle, generation: number, ref: TokenKeyRef): Handle {
    const key = keyObjectId(ref).toString('hex');
    const cached = this.#handles.get(key);
    if (cached !== undefined && cached.generation === generation) return cached.handle;
    const [handle] = findObjects(api, session, keyTemplate(ref, CKO.PRIVATE_KEY));
    if (handle === undefined) throw new KeyNotFound(`no private key ${keyLabel(ref)} in the token`);
    this.#handles.set(key, { generation, handle });
    return handle;
  }
}

function typeOf(api: Pkcs11Api, session: Handle, publicHandle: Handle): HsmKeyType {
  const [keyType] = attributes(api, session, publicHandle, [CKA.KEY_TYPE]);
  if (ulong(keyType as Buffer) === CKK.EC) {
    const [params] = attributes(api, session, publicHandle, [CKA.EC_PARAMS]);
    for (const type of ['ec-p256', 'ec-p384'] as const) {
      if ((params as Buffer).equals(EC_PARAMS[type])) return type;
    }
    throw new RangeError('the token key is on a curve Hallmark does not use');
  }
  const [modulus] = attributes(api, session, publicHandle, [CKA.MODULUS]);
  const size = rsaPublicKey(modulus as Buffer, Buffer.from([1, 0, 1])).asymmetricKeyDetails
    ?.modulusLength;
  if (size === 2048) return 'rsa-2048';
  if (size === 3072) return 'rsa-3072';
  throw new RangeError(`the token key is RSA-${size}, which Hallmark does not use`);
}

function readPublicKey(
  api: Pkcs11Api,
  session: Handle,
  publicHandle: Handle,
  type: HsmKeyType,
): KeyObject {
  if (isEcType(type)) {
    const [params, point] = attributes(api, session, publicHandle, [CKA.EC_PARAMS, CKA.EC_POINT]);
    return ecPublicKey(type, params as Buffer, point as Buffer);
  }
  const [modulus, exponent] = attributes(api, session, publicHandle, [
    CKA.MODULUS,
    CKA.PUBLIC_EXPONENT,
  ]);
  return rsaPublicKey(modulus as Buffer, exponent as Buffer);
}

function describeObject(
  api: Pkcs11Api,
  session: Handle,
  object: Handle,
  objectClass: 'private' | 'public',
): TokenObject {
  const [keyType, id, label, token, isPrivate] = attributes(api, session, object, [
    CKA.KEY_TYPE,
    CKA.ID,
    CKA.LABEL,
    CKA.TOKEN,
    CKA.PRIVATE,
  ]) as [Buffer, Buffer, Buffer, Buffer, Buffer];
  const type = ulong(keyType);
  const base = {
    class: objectClass,
    keyType: type === CKK.EC ? 'ec' : type === CKK.RSA ? 'rsa' : 'other',
    id,
    label: label.toString('utf8'),
    token: bool(token),
    private: bool(isPrivate),
  } as const;
  if (objectClass === 'public') return base;
  const [sensitive, extractable, alwaysSensitive, neverExtractable, sign] = attributes(
    api,
    session,
    object,
    [CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.ALWAYS_SENSITIVE, CKA.NEVER_EXTRACTABLE, CKA.SIGN],
  ).map(bool);
  return { ...base, sensitive, extractable, alwaysSensitive, neverExtractable, sign };
}
