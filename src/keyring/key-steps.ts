// The writes of one rotation step, and the forced successor: what a keyring round applies.
import type { AuditLog, NamedAuditAction } from '../audit/index.js';
import type { Queryable } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import type { RotationStep } from './key-schedule.js';
import type { StoredKey } from './key-table.js';
import type { KeyStore } from './key-store.js';
import type { KeyringKind } from './keyring-kind.js';

/** One key changed by a round, as audited. */
export interface KeyChange {
  readonly action: NamedAuditAction;
  readonly kid: string;
}

/** Where the steps write and how they name what they did. */
export interface StepContext<M, S extends StoredKey> {
  readonly store: KeyStore<M, S>;
  readonly kind: KeyringKind<M, S>;
}

/** What one round has done so far: its audited changes, and the keys it generated. */
export interface RoundRecord<M> {
  readonly changes: KeyChange[];
  /** Discarded (a token key destroyed) when the round's transaction does not commit. */
  readonly generated: M[];
}

/** Applies `step`; returns true when the stored set of kids changed (anything but activation). */
export async function applyStep<M, S extends StoredKey>(
  { store, kind }: StepContext<M, S>,
  client: Queryable,
  step: Exclude<RotationStep, { kind: 'none' }>,
  now: number,
  { changes, generated }: RoundRecord<M>,
): Promise<boolean> {
  const { actions } = kind;
  if (step.kind === 'bootstrap' || step.kind === 'prepare') {
    const material = await kind.generate();
    generated.push(material);
    const status = step.kind === 'bootstrap' ? 'active' : 'prepared';
    const kid = await store.insert(client, material, status, now);
    changes.push({ action: status === 'active' ? actions.bootstrapped : actions.prepared, kid });
    return true;
  }
  if (step.kind === 'activate') {
    await store.activate(client, step.kid, now);
    changes.push({ action: actions.activated, kid: step.kid });
    return false;
  }
  const dropped = actions.dropped;
  if (dropped === undefined) {
    throw new HallmarkError('ERR_INTERNAL', { detail: `${kind.channel} keys are never dropped` });
  }
  await store.drop(client, step.kids);
  for (const kid of step.kids) changes.push({ action: dropped, kid });
  return true;
}

/**
 * Prepares a successor unless one is prepared already, and activates it (operator request,
 * distrust of the signing key). Returns true when the stored set of kids changed.
 */
export async function forceSuccessor<M, S extends StoredKey>(
  context: StepContext<M, S>,
  client: Queryable,
  now: number,
  round: RoundRecord<M>,
): Promise<boolean> {
  const preparedKid = async (): Promise<string | undefined> =>
    (await context.store.load(client)).find((key) => key.status === 'prepared')?.kid;
  let published = false;
  let prepared = await preparedKid();
  if (prepared === undefined) {
    published = await applyStep(context, client, { kind: 'prepare' }, now, round);
    prepared = await preparedKid();
  }
  if (prepared !== undefined) {
    await applyStep(context, client, { kind: 'activate', kid: prepared }, now, round);
  }
  return published;
}

/** Takes the kind's advisory lock for the round; with `wait` false, false when it is busy. */
export async function takeRoundLock(
  client: Queryable,
  lock: number,
  wait: boolean,
): Promise<boolean> {
  if (wait) {
    await client.query('SELECT pg_advisory_xact_lock($1)', [lock]);
    return true;
  }
  const taken = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
    lock,
  ]);
  return taken.rows[0]?.ok === true;
}

/** Stages one audit row per change, in the round's transaction. */
export async function stageChanges(
  audit: AuditLog,
  client: Queryable,
  changes: readonly KeyChange[],
  request: { readonly actor: string; readonly requestId?: string },
  target: ((kid: string) => string) | undefined,
): Promise<void> {
  if (changes.length === 0) return;
  await audit.stage(
    client,
    changes.map((change) => ({
      actor: request.actor,
      action: change.action,
      target: target?.(change.kid) ?? change.kid,
      outcome: 'success' as const,
      requestId: request.requestId,
    })),
  );
}
