// Per-test databases inside the shared embedded cluster started by global-setup.ts.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { Database, MIGRATIONS, migrate } from '../../src/db/index.js';

/** A fresh, empty database; returns its URL. */
export async function createEmptyDatabase(): Promise<string> {
  const adminUrl = inject('pgAdminUrl');
  const name = `t_${randomBytes(8).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return adminUrl.replace(/\/postgres$/, `/${name}`);
}

/** A fresh database with every migration applied, and an open handle to it. */
export async function createMigratedDatabase(): Promise<{ url: string; db: Database }> {
  const url = await createEmptyDatabase();
  const db = new Database(url, { max: 10 });
  await migrate(db, MIGRATIONS);
  return { url, db };
}
