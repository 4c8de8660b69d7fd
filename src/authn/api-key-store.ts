// API-key identities in PostgreSQL: create (hash only), check presented keys, revoke.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock/index.js';
import type { Queryable } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import { apiKeyIdentity } from '../policy/index.js';
import { apiKeyMatches, generateApiKey, hashApiKey } from './api-key.js';
import {
  announceRevocationSql,
  REVOCATIONS_CHANNEL,
  upsertRevocationCte,
  type Revocation,
  type RevocationRow,
} from './revocation-list.js';

/** Role of an API key: the admin key, or an application identity (broker bindings). */
export type ApiKeyRole = 'admin' | 'app';

/** An API key that matched. */
export interface ApiKeyHolder {
  readonly id: string;
  /** `key:<id>`, the identity policy and tokens use. */
  readonly identity: string;
  readonly role: ApiKeyRole;
}

// Compared against when the id is unknown, so every refusal costs the same hash comparison.
const DECOY_HASH = hashApiKey(randomBytes(32).toString('base64url'));

interface ApiKeyRow {
  key_hash: Buffer;
  role: ApiKeyRole;
  revoked_at: Date | null;
}

/**
 * Creates an API-key identity and returns the key, which is stored only as its SHA-256 and
 * exists nowhere else after this call returns.
 * @throws HallmarkError ERR_REQUEST_INVALID for a malformed id or one already taken.
 */
export async function createApiKey(
  db: Queryable,
  input: { id: string; role: ApiKeyRole },
  clock: Clock,
): Promise<string> {
  if (apiKeyIdentity(input.id) === undefined) {
    throw new HallmarkError('ERR_REQUEST_INVALID', {
      message:
        'API key ids are 1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit',
    });
  }
  const key = generateApiKey();
  const inserted = await db.query(
    `INSERT INTO api_keys (id, key_hash, role, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO NOTHING`,
    [input.id, hashApiKey(key), input.role, new Date(clock.now())],
  );
  if (inserted.rowCount !== 1) {
    throw new HallmarkError('ERR_REQUEST_INVALID', { message: 'API key id already exists' });
  }
  return key;
}

/** True when an API key `id` exists, revoked or not. */
export async function apiKeyExists(db: Queryable, id: string): Promise<boolean> {
  const found = await db.query('SELECT 1 FROM api_keys WHERE id = $1', [id]);
  return found.rowCount !== 0;
}

/**
 * Checks a presented key. Unknown id, revoked key and wrong key are one refusal, and each
 * path does the same constant-time hash comparison, so neither the code nor the timing tells
 * which it was.
 * @throws HallmarkError ERR_AUTHN_API_KEY_INVALID (the reason in `detail`).
 */
export async function verifyApiKey(
  db: Queryable,
  id: string,
  presented: string,
): Promise<ApiKeyHolder> {
  const identity = apiKeyIdentity(id);
  const row =
    identity === undefined
      ? undefined
      : (
          await db.query<ApiKeyRow>(
            'SELECT key_hash, role, revoked_at FROM api_keys WHERE id = $1',
            [id],
          )
        ).rows[0];
  const matches = apiKeyMatches(presented, row?.key_hash ?? DECOY_HASH);
  let reason: string | undefined;
  if (row === undefined || identity === undefined) reason = 'unknown API key id';
  else if (row.revoked_at !== null) reason = 'API key revoked';
  else if (!matches) reason = 'wrong API key';
  if (reason !== undefined || row === undefined || identity === undefined) {
    throw new HallmarkError('ERR_AUTHN_API_KEY_INVALID', { detail: reason });
  }
  return { id, identity, role: row.role };
}

/**
 * Revokes an API key: marks it revoked (it can no longer log in) and, in the same statement,
 * revokes the identity `key:<id>` so every token it holds fails on every replica at once.
 * @returns the revocation, or `undefined` when no such key exists.
 */
export async function revokeApiKey(
  db: Queryable,
  id: string,
  actor: string,
  now: number,
): Promise<Revocation | undefined> {
  const identity = apiKeyIdentity(id);
  if (identity === undefined) return undefined;
  const result = await db.query<RevocationRow>(
    `WITH k AS (
       UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING id
     ), ${upsertRevocationCte('SELECT $4, $2, $3 FROM k')}
     ${announceRevocationSql('$5')}`,
    [id, new Date(now), actor, identity, REVOCATIONS_CHANNEL],
  );
  const row = result.rows[0];
  return row === undefined
    ? undefined
    : { identity: row.identity, revokedAt: Number(row.revoked_at_ms) };
}

/** A rotated key: the new secret (shown once) and the revocation of the old one's tokens. */
export interface RotatedApiKey {
  readonly key: string;
  readonly createdAt: number;
  readonly revocation: Revocation;
}

/**
 * Replaces the secret of a live API key and, in the same statement, revokes every token
 * issued to `key:<id>` until now, so the old key and whatever it obtained stop working at
 * once on every replica (NOTIFY at COMMIT). The new key is stored only as its SHA-256.
 * @returns `undefined` when no live key has this id (unknown or revoked).
 */
export async function rotateApiKey(
  db: Queryable,
  id: string,
  actor: string,
  now: number,
): Promise<RotatedApiKey | undefined> {
  const identity = apiKeyIdentity(id);
  if (identity === undefined) return undefined;
  const key = generateApiKey();
  const result = await db.query<RevocationRow>(
    `WITH k AS (
       UPDATE api_keys SET key_hash = $5, created_at = $2
        WHERE id = $1 AND revoked_at IS NULL RETURNING id
     ), ${upsertRevocationCte('SELECT $4, $2, $3 FROM k')}
     ${announceRevocationSql('$6')}`,
    [id, new Date(now), actor, identity, hashApiKey(key), REVOCATIONS_CHANNEL],
  );
  const row = result.rows[0];
  return row === undefined
    ? undefined
    : {
        key,
        createdAt: now,
        revocation: { identity: row.identity, revokedAt: Number(row.revoked_at_ms) },
      };
}
