// The secrets of an instance scope as provision and update see them: comparing and writing.
import { isHallmarkError } from '../src/errors/index.js';
import type { Queryable } from '../src/db/index.js';
import { scopePrefix, scopeSecretPath } from './broker-ids.js';
import type { BrokerSecrets } from './broker-ports.js';

/** True when the scope holds exactly `secrets` (same names, same current values). */
export async function scopeHolds(
  store: BrokerSecrets,
  instanceId: string,
  secrets: ReadonlyMap<string, string>,
): Promise<boolean> {
  const counts = await store.count(scopePrefix(instanceId));
  if (counts.paths !== secrets.size) return false;
  if (secrets.size === 0) return true;
  const paths = [...secrets.keys()].map((name) => scopeSecretPath(instanceId, name));
  const stored = await store.getMany(paths).catch(absentAsUndefined);
  if (stored === undefined) return false;
  return [...secrets].every(
    ([name, value]) => stored.get(scopeSecretPath(instanceId, name))?.value === value,
  );
}

/**
 * Writes each secret as a new version in the call's transaction `tx`: if any write fails the
 * transaction rolls back, and the values in force stay the old ones, all of them.
 */
export async function writeScope(
  store: BrokerSecrets,
  instanceId: string,
  secrets: ReadonlyMap<string, string>,
  actor: string,
  tx: Queryable,
): Promise<void> {
  for (const [name, value] of secrets) {
    await store.put(scopeSecretPath(instanceId, name), value, actor, { tx });
  }
}

/** A missing secret is an answer (`undefined`); any other failure still fails the call. */
function absentAsUndefined(err: unknown): undefined {
  if (isHallmarkError(err, 'ERR_SECRET_NOT_FOUND')) return undefined;
  throw err;
}
