// The secrets of an instance scope as provision and update see them: comparing and rewriting.
import { isHallmarkError } from '../src/errors/index.js';
import type { BrokerLog } from './broker-context.js';
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
 * Writes each secret as a new version. If a write fails, the secrets already written get
 * their previous value back as one more version, so the values in force are the old ones.
 * A secret the update introduced cannot be removed through the store's port; it is logged.
 */
export async function writeOrRestore(
  store: BrokerSecrets,
  instanceId: string,
  secrets: ReadonlyMap<string, string>,
  actor: string,
  log: BrokerLog,
): Promise<void> {
  const paths = [...secrets.keys()].map((name) => scopeSecretPath(instanceId, name));
  const previous = new Map<string, string>();
  for (const path of paths) {
    const found = await store.getMany([path]).catch(absentAsUndefined);
    const value = found?.get(path)?.value;
    if (value !== undefined) previous.set(path, value);
  }
  const written: string[] = [];
  try {
    for (const [name, value] of secrets) {
      const path = scopeSecretPath(instanceId, name);
      await store.put(path, value, actor);
      written.push(path);
    }
  } catch (err) {
    for (const path of written) {
      const old = previous.get(path);
      const restored =
        old === undefined
          ? Promise.reject(new Error('no previous version'))
          : store.put(path, old, actor);
      await restored.catch((restoreErr: Error) =>
        log.error({ err: restoreErr.message, path }, 'failed update not undone for this secret'),
      );
    }
    throw err;
  }
}

/** A missing secret is an answer (`undefined`); any other failure still fails the call. */
function absentAsUndefined(err: unknown): undefined {
  if (isHallmarkError(err, 'ERR_SECRET_NOT_FOUND')) return undefined;
  throw err;
}
