// Concurrency: OSB operations on one instance queue on a replica; across replicas they refuse.
import type { Queryable } from '../src/db/index.js';
import { HallmarkError } from '../src/errors/index.js';

/**
 * Advisory-lock classes (the two-key form, separate from the single-key locks in
 * `src/db/locks.ts`); the second key is `hashtext(id)`. A hash collision between two ids can
 * only turn a concurrent call into a retryable 422, never let two through.
 */
export const BROKER_LOCK_CLASSES = { instance: 0x484d_0b01, binding: 0x484d_0b02 } as const;

/**
 * Takes the instance lock for this transaction: exclusive for provision, update and
 * deprovision; shared for bind and unbind, so bindings of one instance proceed in parallel
 * but never while the instance itself changes. Refuses instead of waiting.
 *
 * @see OSB 2.17 "Blocking Operations": a request the broker cannot process due to a
 * concurrency issue MUST be rejected with 422 and error `ConcurrencyError`.
 * @throws HallmarkError `ERR_BROKER_CONCURRENCY`
 */
export async function lockInstance(
  tx: Queryable,
  instanceId: string,
  mode: 'exclusive' | 'shared',
): Promise<void> {
  const fn =
    mode === 'exclusive' ? 'pg_try_advisory_xact_lock' : 'pg_try_advisory_xact_lock_shared';
  await tryLock(tx, fn, BROKER_LOCK_CLASSES.instance, instanceId);
}

/** Takes the exclusive lock of one binding id for this transaction, or refuses (422). */
export async function lockBinding(tx: Queryable, bindingId: string): Promise<void> {
  await tryLock(tx, 'pg_try_advisory_xact_lock', BROKER_LOCK_CLASSES.binding, bindingId);
}

/**
 * The write-gate key of an instance: on one replica, changes of an instance and of its
 * bindings queue in memory in arrival order instead of refusing each other; across replicas
 * the advisory locks above still refuse (422).
 */
export function instanceGateKey(instanceId: string): string {
  return `osb-instance:${instanceId}`;
}

async function tryLock(tx: Queryable, fn: string, lockClass: number, id: string): Promise<void> {
  const result = await tx.query<{ locked: boolean }>(`SELECT ${fn}($1, hashtext($2)) AS locked`, [
    lockClass,
    id,
  ]);
  if (result.rows[0]?.locked !== true) {
    throw new HallmarkError('ERR_BROKER_CONCURRENCY', { detail: `lock ${lockClass}/${id} held` });
  }
}
