// An audit checkpoint key: an ES256 (P-256) key pair, its kid, and its row in audit_checkpoint_keys.
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';
import {
  openPrivateKey,
  sealPrivateKey,
  slotOf,
  type KeyTable,
  type StoredKey,
} from '../keyring/index.js';

const generateEcKeyPair = promisify(generateKeyPair);

/** The only JWS algorithm checkpoints use. @see RFC 7518 §3.4 (ECDSA P-256 SHA-256) */
export const CHECKPOINT_ALG = 'ES256';

/** A freshly generated checkpoint key. */
export interface CheckpointKeyMaterial {
  /** RFC 7638 JWK thumbprint of the public key. */
  readonly kid: string;
  /** EC P-256 with `kid`, `alg`, `use`: what `GET /v1/audit/keys` publishes. */
  readonly publicJwk: JWK;
  readonly privateKey: KeyObject;
}

/** A checkpoint key loaded from PostgreSQL; retired keys keep only their public half. */
export interface StoredCheckpointKey extends StoredKey {
  readonly publicJwk: JWK;
}

/** Generates a P-256 key pair in node:crypto; the kid is its JWK thumbprint. */
export async function generateCheckpointKey(): Promise<CheckpointKeyMaterial> {
  const { publicKey, privateKey } = await generateEcKeyPair('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  // @see RFC 7638 §3.2: the thumbprint covers exactly crv, kty, x, y for EC keys.
  const kid = await calculateJwkThumbprint({ kty, crv, x, y } as JWK, 'sha256');
  return { kid, publicJwk: { kty, crv, x, y, kid, alg: CHECKPOINT_ALG, use: 'sig' }, privateKey };
}

/** AAD binds a sealed key to its kid and purpose: a token key row cannot be moved in here. */
function sealAad(kid: string): string {
  return `audit-checkpoint-key|${kid}`;
}

/** The `audit_checkpoint_keys` table (migration 13). */
export const CHECKPOINT_KEY_TABLE: KeyTable<CheckpointKeyMaterial, StoredCheckpointKey> = {
  name: 'audit_checkpoint_keys',
  extraColumns: [],
  toRow: (master, material) => ({
    publicJwk: material.publicJwk,
    sealedPrivateKey: sealPrivateKey(master, material.privateKey, sealAad(material.kid)),
    extra: [],
  }),
  fromRow: (master, row) => ({
    ...slotOf(row),
    publicJwk: row.public_jwk,
    privateKey:
      row.sealed_private_key === null
        ? undefined
        : openPrivateKey(master, row.sealed_private_key, sealAad(row.kid)),
  }),
};
