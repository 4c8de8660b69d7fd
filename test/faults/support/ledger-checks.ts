// After a fault: what the database must still say — issued certificates audited, secret versions whole.
import type { Queryable } from '../../../src/db/index.js';
import type { PgSecretStore } from '../../../src/secrets/index.js';
import { parseSecretPath } from '../../../src/secrets/index.js';

/**
 * Serials in `issued_certificates` with no `svid.x509.issued` audit row naming them, chained
 * or still staged (the row's target reads `<spiffe id> serial=<hex> pod=<uid>`). Must be empty:
 * the route commits the record and its audit row in one statement.
 */
export async function certificatesWithoutAudit(db: Queryable): Promise<string[]> {
  const result = await db.query<{ serial: string }>(
    `SELECT c.serial FROM issued_certificates c
      WHERE c.serial NOT IN (
        SELECT substring(a.target FROM 'serial=([0-9a-f]+)')
          FROM (SELECT action, outcome, target FROM audit_log
                UNION ALL SELECT action, outcome, target FROM audit_pending) a
         WHERE a.action = 'svid.x509.issued' AND a.outcome = 'success'
           AND a.target LIKE '%serial=%')`,
  );
  return result.rows.map((row) => row.serial);
}

/** Of `serials`, those with no `issued_certificates` row. */
export async function unrecordedSerials(
  db: Queryable,
  serials: readonly string[],
): Promise<string[]> {
  const result = await db.query<{ serial: string }>(
    'SELECT serial FROM issued_certificates WHERE serial = ANY($1::text[])',
    [serials],
  );
  const recorded = new Set(result.rows.map((row) => row.serial));
  return serials.filter((serial) => !recorded.has(serial));
}

/** A problem found in the stored secret versions. */
export interface VersionProblem {
  path: string;
  problem: string;
}

/**
 * Checks every stored secret version: versions of a path are exactly 1..latest (no gap, no
 * version beyond the head) and each one opens (its sealed key and value authenticate).
 */
export async function secretVersionProblems(
  db: Queryable,
  store: PgSecretStore,
): Promise<VersionProblem[]> {
  const heads = await db.query<{ path: string; latest: number; versions: number[] }>(
    `SELECT h.path, h.latest, array_remove(array_agg(v.version ORDER BY v.version), NULL) AS versions
       FROM secret_heads h LEFT JOIN secret_versions v ON v.path = h.path
      GROUP BY h.path, h.latest`,
  );
  const problems: VersionProblem[] = [];
  for (const { path, latest, versions } of heads.rows) {
    const expected = Array.from({ length: latest }, (_, i) => i + 1);
    if (versions.join(',') !== expected.join(',')) {
      problems.push({ path, problem: `versions ${versions.join(',')} but head says ${latest}` });
    }
    for (const version of versions) {
      try {
        const opened = await store.get(parseSecretPath(path), version);
        if (opened.version !== version)
          problems.push({ path, problem: `v${version} opened as v${opened.version}` });
      } catch (err) {
        problems.push({
          path,
          problem: `v${version} does not open: ${(err as { code?: string }).code ?? String(err)}`,
        });
      }
    }
  }
  const orphans = await db.query<{ path: string }>(
    'SELECT DISTINCT v.path FROM secret_versions v LEFT JOIN secret_heads h ON h.path = v.path WHERE h.path IS NULL',
  );
  for (const { path } of orphans.rows) problems.push({ path, problem: 'versions without a head' });
  return problems;
}
