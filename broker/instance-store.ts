// Service instance rows (migration 006): the SQL of provision, update, fetch and deprovision.
import type { Queryable } from '../src/db/index.js';

/** What a platform sent besides the parameters; compared on a repeated provision. */
export interface InstanceAttributes {
  readonly organization_guid: string | null;
  readonly space_guid: string | null;
  readonly context: Readonly<Record<string, unknown>> | null;
}

/** A stored service instance. */
export interface InstanceRecord {
  readonly instanceId: string;
  readonly serviceId: string;
  readonly planId: string;
  readonly attributes: InstanceAttributes;
}

interface InstanceRow {
  instance_id: string;
  service_id: string;
  plan_id: string;
  attributes: InstanceAttributes;
}

function toRecord(row: InstanceRow): InstanceRecord {
  return {
    instanceId: row.instance_id,
    serviceId: row.service_id,
    planId: row.plan_id,
    attributes: row.attributes,
  };
}

/** The instance, or `undefined`. */
export async function findInstance(
  db: Queryable,
  instanceId: string,
): Promise<InstanceRecord | undefined> {
  const result = await db.query<InstanceRow>(
    'SELECT instance_id, service_id, plan_id, attributes FROM osb_instances WHERE instance_id = $1',
    [instanceId],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toRecord(row);
}

/**
 * True when the stored attributes equal `attributes`. Compared as `jsonb`, so key order and
 * whitespace in what the platform sent do not matter.
 */
export async function sameInstanceAttributes(
  db: Queryable,
  instanceId: string,
  attributes: InstanceAttributes,
): Promise<boolean> {
  const result = await db.query<{ same: boolean }>(
    'SELECT attributes = $2::jsonb AS same FROM osb_instances WHERE instance_id = $1',
    [instanceId, JSON.stringify(attributes)],
  );
  return result.rows[0]?.same === true;
}

/** Inserts a new instance. */
export async function insertInstance(
  db: Queryable,
  record: InstanceRecord,
  actor: string,
  now: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO osb_instances (instance_id, service_id, plan_id, attributes, created_at, created_by, updated_at)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, $5)`,
    [
      record.instanceId,
      record.serviceId,
      record.planId,
      JSON.stringify(record.attributes),
      now,
      actor,
    ],
  );
}

/** Records that an update changed the instance's parameters. */
export async function touchInstance(db: Queryable, instanceId: string, now: Date): Promise<void> {
  await db.query('UPDATE osb_instances SET updated_at = $2 WHERE instance_id = $1', [
    instanceId,
    now,
  ]);
}

/** Deletes the instance row (its bindings must be gone first: the foreign key insists). */
export async function deleteInstance(db: Queryable, instanceId: string): Promise<void> {
  await db.query('DELETE FROM osb_instances WHERE instance_id = $1', [instanceId]);
}
