// Where a keyring's keys live: the five writes and one read the rotation engine needs.
import type { Queryable } from '../db/index.js';
import type { StoredKey } from './key-table.js';

/**
 * One kind's persistence. The engine calls these inside its rotation transaction, holding the
 * kind's advisory lock; a kind with the standard key table gets them from `tableStore`, a kind
 * whose table predates the keyring (the CA's) implements them over its own columns.
 */
export interface KeyStore<M, S extends StoredKey> {
  /** Every stored key, oldest first. */
  load(db: Queryable): Promise<S[]>;
  /** Stores a new key as `prepared` or, at bootstrap, directly `active`; returns its kid. */
  insert(db: Queryable, material: M, status: 'prepared' | 'active', now: number): Promise<string>;
  /** Retires the active key (if any) and activates the prepared key `kid`. */
  activate(db: Queryable, kid: string, now: number): Promise<void>;
  /** Deletes retired or distrusted keys that no longer verify anything. */
  drop(db: Queryable, kids: readonly string[]): Promise<void>;
  /** Marks `kid` distrusted and wipes its private key (nothing signs with it again). */
  distrust(db: Queryable, kid: string, now: number): Promise<void>;
}
