// Upgrade: a database the previous release filled (no migration 008) starts on the new one; its chain verifies.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/index.js';
import { Database, MIGRATIONS, migrate } from '../../src/db/index.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { startStack } from '../helpers/hallmark-stack.js';

interface StoredRow {
  seq: number;
  time: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  reason: string;
  request_id: string;
  prev_hash: string;
  hash: string;
}

/**
 * Rows as the audit log of the 7-migration release wrote them (its group-committed appends,
 * with a fixed clock): the hashes are that release's, so a change of the hash format fails here.
 */
const PREVIOUS_CHAIN = JSON.parse(
  readFileSync(
    new URL('../fixtures/audit/chain-written-by-schema-7.json', import.meta.url),
    'utf8',
  ),
) as StoredRow[];

describe('upgrading a database the previous release filled', () => {
  it('keeps its chain, extends it with staged rows, and verifies', async () => {
    const url = await createEmptyDatabase();
    const before = new Database(url, { max: 2 });
    try {
      // Every migration of the release before staged rows (008 is the one that adds them).
      await migrate(
        before,
        MIGRATIONS.filter((m) => m.version !== 8),
      );
      for (const row of PREVIOUS_CHAIN) {
        await before.query(
          `INSERT INTO audit_log (seq, time, actor, action, target, outcome, reason, request_id, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          Object.values(row),
        );
      }
      const last = PREVIOUS_CHAIN.at(-1) as StoredRow;
      await before.query('INSERT INTO audit_head (id, seq, hash) VALUES (true, $1, $2)', [
        last.seq,
        last.hash,
      ]);
    } finally {
      await before.close();
    }

    // The new server migrates it and stages rows of its own (CA, keys, a secret write).
    const stack = await startStack({ databaseUrl: url });
    try {
      const adminKey = (await readFile(stack.server.admin.file, 'utf8')).trim();
      const login = await stack.call('POST', '/v1/authn/apikey', {
        body: { id: 'admin', api_key: adminKey },
      });
      const put = await stack.call('PUT', '/v1/secrets/upgraded/db', {
        body: { value: 'v' },
        headers: { authorization: `Bearer ${login.body.token as string}` },
      });
      expect(put.status).toBe(200);
      await stack.server.audit.settle();
      const db = stack.server.db;
      const verdict = await verifyAuditChain(db);
      expect(verdict).toMatchObject({ ok: true, staged: 0 });
      expect(verdict.rows).toBeGreaterThan(PREVIOUS_CHAIN.length);
      const stored = await db.query<StoredRow>(
        `SELECT seq::int, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS time,
                actor, action, target, outcome, reason, request_id, prev_hash, hash
           FROM audit_log ORDER BY seq`,
      );
      expect(stored.rows.slice(0, PREVIOUS_CHAIN.length)).toEqual(PREVIOUS_CHAIN);
      expect(stored.rows[PREVIOUS_CHAIN.length]?.prev_hash).toBe(
        (PREVIOUS_CHAIN.at(-1) as StoredRow).hash,
      );
      expect(stored.rows.map((row) => row.target)).toContain('upgraded/db@v1');
    } finally {
      await stack.close();
    }
  });
});
