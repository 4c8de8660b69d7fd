// Snapshots of everything a refused request must leave alone, and the audit rows it added.
import type { HallmarkStack } from '../helpers/hallmark-stack.js';

/**
 * Every table holding state a request could change, except the audit log (which a refusal
 * must grow) and its head. Broker and JWT-authority tables are included when the migration
 * that makes them exists, so this list never needs to follow the schema by hand.
 */
export const STATE_TABLES = [
  'issued_certificates',
  'secret_heads',
  'secret_versions',
  'policies',
  'api_keys',
  'revocations',
  'ca_authorities',
  'bundle_state',
  'token_signing_keys',
  'jwt_authority_keys',
  'audit_checkpoint_keys',
  'audit_base',
  'federated_bundles',
  'osb_instances',
  'osb_bindings',
  'osb_grant_version',
] as const;

/** One table: its row count and a digest of every row, so an UPDATE is caught too. */
export interface TableState {
  readonly rows: number;
  readonly digest: string;
}

/** What must be identical before and after a refused request. */
export interface StateSnapshot {
  readonly tables: Readonly<Record<string, TableState>>;
  readonly bundleSequence: number;
  readonly policyVersion: number;
  readonly policySha256: string;
}

/** An audit row as the corpus checks it. */
export interface AuditRow {
  readonly seq: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly outcome: string;
  readonly reason: string;
  readonly request_id: string;
}

/** The tables of {@link STATE_TABLES} present in this database. */
export async function existingStateTables(stack: HallmarkStack): Promise<string[]> {
  const { rows } = await stack.server.db.query<{ tablename: string }>(
    'SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY($1)',
    [[...STATE_TABLES]],
  );
  return rows.map((r) => r.tablename).sort();
}

/** Counts and digests every state table, plus the in-memory bundle and policy versions. */
export async function snapshotState(
  stack: HallmarkStack,
  tables: readonly string[],
): Promise<StateSnapshot> {
  // One round trip for all tables (table names come from STATE_TABLES, never from a request).
  const { rows } = await stack.server.db.query<{ name: string; n: number; digest: string }>(
    tables
      .map(
        (table) => `SELECT '${table}' AS name, count(*)::int AS n,
                coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') AS digest
           FROM ${table} t`,
      )
      .join(' UNION ALL '),
  );
  const state: Record<string, TableState> = {};
  for (const row of rows) state[row.name] = { rows: row.n, digest: row.digest };
  return {
    tables: state,
    bundleSequence: stack.server.ca.bundle().sequence,
    policyVersion: stack.server.policy.version(),
    policySha256: stack.server.policy.current().sha256,
  };
}

/** The highest audit seq so far (0 on an empty log). */
export async function auditHead(stack: HallmarkStack): Promise<number> {
  await stack.server.audit.settle();
  const { rows } = await stack.server.db.query<{ seq: string | null }>(
    'SELECT max(seq)::text AS seq FROM audit_log',
  );
  return Number(rows[0]?.seq ?? 0);
}

/** Audit rows appended after `seq`, oldest first. */
export async function auditRowsAfter(stack: HallmarkStack, seq: number): Promise<AuditRow[]> {
  await stack.server.audit.settle();
  const { rows } = await stack.server.db.query<AuditRow & { seq: string }>(
    `SELECT seq::text AS seq, actor, action, target, outcome, reason, request_id
       FROM audit_log WHERE seq > $1 ORDER BY seq`,
    [seq],
  );
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}
