// Service binding rows (migration 006): the SQL of bind, unbind, fetch and deprovision.
import type { Queryable } from '../src/db/index.js';

/** What a platform sent for a binding; compared on a repeated bind. */
export interface BindingAttributes {
  readonly service_id: string;
  readonly plan_id: string;
  readonly app_guid: string | null;
  readonly bind_resource: Readonly<Record<string, unknown>> | null;
  readonly context: Readonly<Record<string, unknown>> | null;
  readonly parameters: Readonly<Record<string, unknown>> | null;
}

/** A stored binding. */
export interface BindingRecord {
  readonly bindingId: string;
  readonly instanceId: string;
  readonly kind: 'api_key' | 'workload';
  /** Who the read grant is given to: `key:<apiKeyId>` or a SPIFFE ID. */
  readonly identity: string;
  readonly apiKeyId: string | null;
  readonly attributes: BindingAttributes;
}

interface BindingRow {
  binding_id: string;
  instance_id: string;
  kind: 'api_key' | 'workload';
  identity: string;
  api_key_id: string | null;
  attributes: BindingAttributes;
}

const COLUMNS = 'binding_id, instance_id, kind, identity, api_key_id, attributes';

function toRecord(row: BindingRow): BindingRecord {
  return {
    bindingId: row.binding_id,
    instanceId: row.instance_id,
    kind: row.kind,
    identity: row.identity,
    apiKeyId: row.api_key_id,
    attributes: row.attributes,
  };
}

/** The binding with this id under any instance (ids are global), or `undefined`. */
export async function findBinding(
  db: Queryable,
  bindingId: string,
): Promise<BindingRecord | undefined> {
  const result = await db.query<BindingRow>(
    `SELECT ${COLUMNS} FROM osb_bindings WHERE binding_id = $1`,
    [bindingId],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toRecord(row);
}

/** True when the stored binding's attributes equal `attributes` (as `jsonb`). */
export async function sameBindingAttributes(
  db: Queryable,
  bindingId: string,
  attributes: BindingAttributes,
): Promise<boolean> {
  const result = await db.query<{ same: boolean }>(
    'SELECT attributes = $2::jsonb AS same FROM osb_bindings WHERE binding_id = $1',
    [bindingId, JSON.stringify(attributes)],
  );
  return result.rows[0]?.same === true;
}

/** Every binding of an instance. */
export async function bindingsOf(db: Queryable, instanceId: string): Promise<BindingRecord[]> {
  const result = await db.query<BindingRow>(
    `SELECT ${COLUMNS} FROM osb_bindings WHERE instance_id = $1 ORDER BY binding_id`,
    [instanceId],
  );
  return result.rows.map(toRecord);
}

/** Inserts a binding. */
export async function insertBinding(
  db: Queryable,
  record: BindingRecord,
  actor: string,
  now: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO osb_bindings (binding_id, instance_id, kind, identity, api_key_id, attributes, created_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`,
    [
      record.bindingId,
      record.instanceId,
      record.kind,
      record.identity,
      record.apiKeyId,
      JSON.stringify(record.attributes),
      now,
      actor,
    ],
  );
}

/** Deletes one binding. */
export async function deleteBinding(db: Queryable, bindingId: string): Promise<void> {
  await db.query('DELETE FROM osb_bindings WHERE binding_id = $1', [bindingId]);
}

/** Deletes every binding of an instance. */
export async function deleteBindingsOf(db: Queryable, instanceId: string): Promise<void> {
  await db.query('DELETE FROM osb_bindings WHERE instance_id = $1', [instanceId]);
}
