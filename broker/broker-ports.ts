// What the broker needs from the secret store and from API-key authentication, as small ports.
import type { Queryable } from '../src/db/index.js';
import type { SecretPath } from '../src/secrets/index.js';

/** Paths and versions counted under a prefix. */
export interface ScopeCounts {
  readonly paths: number;
  readonly versions: number;
}

/**
 * The part of the secret store the broker uses; `src/secrets`' `PgSecretStore` satisfies it
 * (with `{ tx }` options). Writes and deletions run in the broker's open transaction, so a
 * scope changes exactly when its instance does, together with the call's audit row.
 */
export interface BrokerSecrets {
  put(
    path: SecretPath,
    value: string,
    actor: string,
    options: { tx: Queryable },
  ): Promise<{ readonly version: number }>;
  getMany(paths: readonly SecretPath[]): Promise<ReadonlyMap<string, { readonly value: string }>>;
  /** Crypto-shreds every version (data keys and ciphertexts) under `prefix`. */
  deletePrefix(prefix: string, options: { tx: Queryable }): Promise<ScopeCounts>;
  count(prefix?: string): Promise<ScopeCounts>;
}

/**
 * API-key identities for bindings. Both calls receive the broker's open transaction and
 * should run on it, so a key exists exactly when its binding does (the authn functions
 * `Authentication.createApiKeyIn` and `revokeApiKeyIn` do, each staging its audit row there).
 */
export interface BrokerApiKeys {
  /**
   * Creates app key `id` and returns it; only its hash may be stored. Its
   * `authn.api_key.created` row, naming `actor`, commits in `tx` as the server's does.
   */
  create(id: string, actor: string, tx: Queryable): Promise<string>;
  /**
   * Revokes key `id` and every token issued to `key:<id>`, with its `authn.api_key.revoked`
   * row in `tx` (the announcement to other
   * replicas is delivered when the transaction commits). May return an action to run once the
   * transaction has committed — e.g. applying the revocation to this replica's in-memory list,
   * which must not happen for a change that is rolled back.
   */
  revoke(id: string, actor: string, tx: Queryable): Promise<(() => void) | undefined>;
}
