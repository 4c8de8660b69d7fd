// The secret store port: versioned, sealed secret values behind one small interface.
import type { AuditEvent, AuditLog } from '../audit/index.js';
import type { Queryable } from '../db/index.js';
import type { SecretPath } from './secret-path.js';

/** One stored version of a secret, opened. */
export interface SecretVersion {
  readonly path: string;
  readonly version: number;
  readonly value: string;
  readonly createdAt: Date;
  /** The identity that wrote it (SPIFFE ID or `key:<id>`). */
  readonly createdBy: string;
}

/** Where a write landed. */
export interface SecretVersionRef {
  readonly path: string;
  readonly version: number;
}

/** A write's audit row: the log it is staged in, and the event for the version written. */
export interface AuditedWrite {
  readonly log: AuditLog;
  readonly event: (version: number) => AuditEvent;
}

/** Options for {@link SecretStore.put}. */
export interface PutOptions {
  /**
   * An open transaction (a client `Database.transaction` handed out) to write in, instead of
   * the store's own: the version then commits or rolls back with the caller's other changes.
   */
  tx?: Queryable;
  /**
   * Stages the write's audit row in the write's transaction: the version and its row commit
   * together or not at all, and a failed stage (`ERR_AUDIT_UNAVAILABLE`) leaves no version.
   */
  audit?: AuditedWrite;
}

/** Options for {@link SecretStore.deletePrefix}. */
export interface DeletePrefixOptions {
  /** An open transaction to delete in, as {@link PutOptions.tx}. */
  tx?: Queryable;
}

/** How much a store holds (tests and operators). */
export interface SecretCounts {
  readonly paths: number;
  readonly versions: number;
}

/**
 * Versioned secrets. Paths arrive parsed ({@link SecretPath}: checked once, where they entered);
 * prefixes are checked here (`ERR_SECRET_BAD_PATH`). Every method opens what it returns
 * fail-closed (`ERR_SECRET_INTEGRITY`); no method logs or throws a value.
 */
export interface SecretStore {
  /** The newest version of `path`, or `version` if given. `ERR_SECRET_NOT_FOUND` otherwise. */
  get(path: SecretPath, version?: number): Promise<SecretVersion>;
  /**
   * The newest version of every path, in at most one query; all or nothing: `ERR_SECRET_NOT_FOUND`
   * names the first path (in the order given) that has no version.
   */
  getMany(paths: readonly SecretPath[]): Promise<Map<string, SecretVersion>>;
  /**
   * Writes a new version (the previous ones are kept). Concurrent writers of one path get
   * distinct, consecutive versions; a version number is visible only once its write (and its
   * audit row) committed. `ERR_SECRET_TOO_LARGE` / `ERR_SECRET_BAD_VALUE` for bad values.
   */
  put(
    path: SecretPath,
    value: string,
    actor: string,
    options?: PutOptions,
  ): Promise<SecretVersionRef>;
  /**
   * Removes every version of every path under `prefix` (which must end in `/`), data keys and
   * ciphertexts alike: the crypto-shredding of a whole scope (OSB deprovision).
   */
  deletePrefix(prefix: string, options?: DeletePrefixOptions): Promise<SecretCounts>;
  /** Paths and versions stored, optionally only under `prefix` (ending in `/`). */
  count(prefix?: string): Promise<SecretCounts>;
}
