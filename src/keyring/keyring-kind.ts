// What sets one rotating keyring apart from another: its storage, channel, lock, keys and names.
import type { NamedAuditAction } from '../audit/index.js';
import type { Queryable } from '../db/index.js';
import type { ErrorCode } from '../errors/index.js';
import type { KeyTable, StoredKey } from './key-table.js';
import type { KeyStore } from './key-store.js';

/** Audit actions of the rotation steps, one row per key changed. */
export interface KeyringActions {
  /** The first key of a fresh database, active at once. */
  readonly bootstrapped: NamedAuditAction;
  readonly prepared: NamedAuditAction;
  readonly activated: NamedAuditAction;
  /** Absent for a kind whose keys are never dropped (the CA: issuance records reference them). */
  readonly dropped?: NamedAuditAction;
  /** An operator distrusted a key; a kind without it cannot be distrusted. */
  readonly distrusted?: NamedAuditAction;
}

/** Log messages, fixed per kind because operators search for them. */
export interface KeyringLogMessages {
  readonly reloadFailed: string;
  readonly rotated: string;
  readonly rotationCheckFailed: string;
}

/** Codes of the refusals of `distrust`; default `ERR_KEYRING_UNKNOWN_KEY`, `ERR_KEYRING_LAST_KEY`. */
export interface KeyringErrors {
  readonly unknownKey: ErrorCode;
  readonly lastKey: ErrorCode;
}

/** The parts every kind has, wherever its keys are stored. */
interface KeyringKindBase<M, S extends StoredKey> {
  /** NOTIFY channel on which replicas learn that the set of keys changed. */
  readonly channel: string;
  /** Advisory lock id that lets one replica at a time rotate (`ADVISORY_LOCKS`). */
  readonly lock: number;
  readonly actions: KeyringActions;
  readonly logs: KeyringLogMessages;
  readonly errors?: KeyringErrors;
  /** A new key pair; with the standard table its kid must be unique in the table. */
  generate(): Promise<M>;
  /**
   * Forgets a key {@link generate} made in a round whose transaction did not commit (a token
   * key is destroyed: no row will point to it). Best effort; the default does nothing.
   */
  discard?(material: M): Promise<void>;
  /** The audit row's target for a change of `kid` (default: the kid). */
  auditTarget?(kid: string): string;
  /**
   * Runs at the end of every rotation round, under the lock and with the keys as stored now,
   * for state derived from them that also moves with time (the CA's published set). Returns
   * true when it changed something replicas must reload (the round then sends NOTIFY).
   */
  reconcile?(client: Queryable, stored: readonly S[], now: number): Promise<boolean>;
}

/**
 * One use of the rotating keyring (access-token signing keys, JWT authorities, the X.509 CA).
 * Its keys live either in the standard key table (`table`) or in a store of its own (`store`).
 * Everything here is fixed by the code: table and channel names are spliced into SQL.
 */
export type KeyringKind<M, S extends StoredKey> = KeyringKindBase<M, S> &
  (
    | (M extends { readonly kid: string }
        ? { readonly table: KeyTable<M, S>; readonly store?: undefined }
        : never)
    | { readonly store: KeyStore<M, S>; readonly table?: undefined }
  );
