// The secret store port: versioned, sealed secret values behind one small interface.

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

/** Options for {@link SecretStore.put}. */
export interface PutOptions {
  /**
   * Runs inside the write, after the new version is allocated and before it is committed
   * (the route appends the audit row here): if it rejects, nothing is written, so there is no
   * write without its audit row.
   */
  beforeCommit?: (version: number) => Promise<void>;
}

/** How much a store holds (tests and operators). */
export interface SecretCounts {
  readonly paths: number;
  readonly versions: number;
}

/**
 * Versioned secrets. Every method validates its paths (`ERR_SECRET_BAD_PATH`) and opens what
 * it returns fail-closed (`ERR_SECRET_INTEGRITY`); no method logs or throws a value.
 */
export interface SecretStore {
  /** The newest version of `path`, or `version` if given. `ERR_SECRET_NOT_FOUND` otherwise. */
  get(path: string, version?: number): Promise<SecretVersion>;
  /**
   * The newest version of every path, in at most one query; all or nothing: `ERR_SECRET_NOT_FOUND`
   * names the first path (in the order given) that has no version.
   */
  getMany(paths: readonly string[]): Promise<Map<string, SecretVersion>>;
  /**
   * Writes a new version (the previous ones are kept). Concurrent writers of one path get
   * distinct, consecutive versions. `ERR_SECRET_TOO_LARGE` / `ERR_SECRET_BAD_VALUE` for bad values.
   */
  put(path: string, value: string, actor: string, options?: PutOptions): Promise<SecretVersionRef>;
  /**
   * Removes every version of every path under `prefix` (which must end in `/`), data keys and
   * ciphertexts alike: the crypto-shredding of a whole scope (OSB deprovision).
   */
  deletePrefix(prefix: string): Promise<SecretCounts>;
  /** Paths and versions stored, optionally only under `prefix` (ending in `/`). */
  count(prefix?: string): Promise<SecretCounts>;
}
