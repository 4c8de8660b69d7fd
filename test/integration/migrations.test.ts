import { describe, expect, it } from 'vitest';
import { Database, MIGRATIONS, isFullyMigrated, migrate } from '../../src/db/index.js';
import { createEmptyDatabase } from '../helpers/database.js';

describe('migrations', () => {
  it('apply exactly once when two servers start at the same moment', async () => {
    const url = await createEmptyDatabase();
    const a = new Database(url, { max: 2 });
    const b = new Database(url, { max: 2 });
    try {
      const [ranA, ranB] = await Promise.all([migrate(a, MIGRATIONS), migrate(b, MIGRATIONS)]);
      // One of them applied everything, the other nothing.
      expect([...ranA, ...ranB].sort((x, y) => x - y)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(ranA.length === 0 || ranB.length === 0).toBe(true);
      const rows = await a.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      expect(rows.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await isFullyMigrated(b, MIGRATIONS)).toBe(true);
      expect(await migrate(a, MIGRATIONS)).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('roll back completely when a migration fails', async () => {
    const url = await createEmptyDatabase();
    const db = new Database(url, { max: 2 });
    try {
      const broken = [
        ...MIGRATIONS,
        { version: 999, name: 'broken', sql: 'CREATE TABLE zz (a int); SELECT nope;' },
      ];
      await expect(migrate(db, broken)).rejects.toMatchObject({ code: 'ERR_DB_MIGRATION_FAILED' });
      const tables = await db.query(
        "SELECT 1 FROM information_schema.tables WHERE table_name IN ('zz', 'audit_log')",
      );
      expect(tables.rowCount).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('are listed in increasing version order, so a new one is always appended', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions).toEqual([...new Set(versions)].sort((x, y) => x - y));
  });

  it('upgrade a database of the release before federation: only 014 runs, and adds federated_bundles', async () => {
    const url = await createEmptyDatabase();
    const db = new Database(url, { max: 2 });
    try {
      await migrate(
        db,
        MIGRATIONS.filter((m) => m.version < 14),
      );
      expect(await isFullyMigrated(db, MIGRATIONS)).toBe(false);
      expect(
        await migrate(
          db,
          MIGRATIONS.filter((m) => m.version <= 14),
        ),
      ).toEqual([14]);
      const columns = await db.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'federated_bundles'",
      );
      expect(columns.rows.map((r) => r.column_name)).toContain('sequence');
    } finally {
      await db.close();
    }
  });

  it('upgrade a database with sealed keys to the PKCS#11 columns: only 015 runs, every row kept sealed', async () => {
    const url = await createEmptyDatabase();
    const db = new Database(url, { max: 2 });
    try {
      await migrate(
        db,
        MIGRATIONS.filter((m) => m.version < 15),
      );
      // Key rows as a release before 15 wrote them: an active sealed key and a retired one.
      const at = new Date('2026-03-01T00:00:00Z');
      for (const table of ['token_signing_keys', 'audit_checkpoint_keys']) {
        await db.query(
          `INSERT INTO ${table} (kid, status, public_jwk, sealed_private_key, created_at, activated_at, retired_at)
           VALUES ('a', 'active', '{}', '\\x01', $1, $1, NULL), ('r', 'retired', '{}', NULL, $1, $1, $1)`,
          [at],
        );
      }
      expect(await migrate(db, MIGRATIONS)).toEqual([15]);
      expect(await isFullyMigrated(db, MIGRATIONS)).toBe(true);
      for (const table of ['token_signing_keys', 'audit_checkpoint_keys']) {
        const rows = await db.query<{ kid: string; sealed: boolean; pkcs11_id: string | null }>(
          `SELECT kid, sealed_private_key IS NOT NULL AS sealed, pkcs11_id FROM ${table} ORDER BY kid`,
        );
        expect(rows.rows).toEqual([
          { kid: 'a', sealed: true, pkcs11_id: null },
          { kid: 'r', sealed: false, pkcs11_id: null },
        ]);
        // The new rule: an active key is sealed or in a token, never both.
        await expect(
          db.query(`UPDATE ${table} SET pkcs11_id = 'x' WHERE kid = 'a'`),
        ).rejects.toMatchObject({ code: '23514' });
      }
    } finally {
      await db.close();
    }
  });
});
