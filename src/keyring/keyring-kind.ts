// What sets one rotating keyring apart from another: its table, channel, lock, keys and names.
import type { NamedAuditAction } from '../audit/index.js';
import type { KeyTable, StoredKey } from './key-table.js';

/** Audit actions of the rotation steps, one row per key changed. */
export interface KeyringActions {
  /** The first key of a fresh database, active at once. */
  readonly bootstrapped: NamedAuditAction;
  readonly prepared: NamedAuditAction;
  readonly activated: NamedAuditAction;
  readonly dropped: NamedAuditAction;
}

/** Log messages, fixed per kind because operators search for them. */
export interface KeyringLogMessages {
  readonly reloadFailed: string;
  readonly rotated: string;
  readonly rotationCheckFailed: string;
}

/**
 * One use of the rotating keyring (access-token signing keys, JWT authorities). Everything here
 * is fixed by the code: table and channel names are spliced into SQL.
 */
export interface KeyringKind<M extends { readonly kid: string }, S extends StoredKey> {
  readonly table: KeyTable<M, S>;
  /** NOTIFY channel on which replicas learn that the set of keys changed. */
  readonly channel: string;
  /** Advisory lock id that lets one replica at a time rotate (`ADVISORY_LOCKS`). */
  readonly lock: number;
  readonly actions: KeyringActions;
  readonly logs: KeyringLogMessages;
  /** A new key pair; its kid must be unique in the table. */
  generate(): Promise<M>;
}
