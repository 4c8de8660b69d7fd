// Key pairs: the key types Hallmark generates and accepts, made and described with node:crypto.
import { generateKeyPair as generateKeyPairCallback, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** The key types Hallmark generates. P-256 is the default everywhere. */
export type KeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072' | 'ed25519';

/** A node:crypto key pair. */
export interface KeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

/** Every {@link KeyType}, for validating configuration. */
export const KEY_TYPES: readonly KeyType[] = [
  'ec-p256',
  'ec-p384',
  'rsa-2048',
  'rsa-3072',
  'ed25519',
];

type GenerateArgs =
  | ['ec', { namedCurve: string }]
  | ['rsa', { modulusLength: number; publicExponent: number }]
  | ['ed25519', Record<string, never>];

function generateArgs(type: KeyType): GenerateArgs {
  switch (type) {
    case 'ec-p256':
      return ['ec', { namedCurve: 'P-256' }];
    case 'ec-p384':
      return ['ec', { namedCurve: 'P-384' }];
    case 'rsa-2048':
      return ['rsa', { modulusLength: 2048, publicExponent: 65537 }];
    case 'rsa-3072':
      return ['rsa', { modulusLength: 3072, publicExponent: 65537 }];
    case 'ed25519':
      return ['ed25519', {}];
  }
}

/**
 * Generates a key pair with node:crypto (never node-forge, whose pure-JS keys are slow).
 * Blocks the thread: RSA-3072 takes a noticeable fraction of a second; prefer
 * {@link generateKeyPairAsync} on a server.
 */
export function generateKeyPair(type: KeyType): KeyPair {
  const [kind, options] = generateArgs(type);
  // The overloads of generateKeyPairSync are per literal kind; the union needs one cast.
  return (generateKeyPairSync as (k: string, o: object) => KeyPair)(kind, options);
}

/** {@link generateKeyPair} on libuv's thread pool. */
export function generateKeyPairAsync(type: KeyType): Promise<KeyPair> {
  const [kind, options] = generateArgs(type);
  return new Promise((resolve, reject) => {
    (
      generateKeyPairCallback as (
        k: string,
        o: object,
        cb: (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) => void,
      ) => void
    )(kind, options, (err, publicKey, privateKey) => {
      if (err) reject(err);
      else resolve({ publicKey, privateKey });
    });
  });
}

/**
 * The {@link KeyType} of a public or private key, or `undefined` for any other key (RSA of
 * another size, other curves, X25519...).
 */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (details?.namedCurve === 'prime256v1') return 'ec-p256';
      if (details?.namedCurve === 'secp384r1') return 'ec-p384';
      return undefined;
    case 'rsa':
      if (details?.modulusLength === 2048) return 'rsa-2048';
      if (details?.modulusLength === 3072) return 'rsa-3072';
      return undefined;
    case 'ed25519':
      return 'ed25519';
    default:
      return undefined;
  }
}
