// First-start bootstrap of the admin API key: created once, printed once, stored as a hash.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import { ADVISORY_LOCKS, type Database } from '../db/index.js';
import { apiKeyExists, createApiKey } from './api-key-store.js';

/** Identity id of the admin API key. */
export const ADMIN_KEY_ID = 'admin';

/** What bootstrap did: `created` carries the key, which exists nowhere else in memory after. */
export type AdminBootstrap =
  { created: true; key: string; file: string } | { created: false; file: string };

/**
 * Creates the admin key if the database has none, with its `authn.api_key.created` audit row
 * in the same transaction. Serialised by an advisory lock so that of several replicas starting
 * at once exactly one creates (and prints) the key.
 */
export async function bootstrapAdminKey(
  db: Database,
  dataDir: string,
  clock: Clock,
  audit: AuditLog,
): Promise<AdminBootstrap> {
  const file = path.join(dataDir, 'admin.key');
  return db.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.adminBootstrap]);
    if (await apiKeyExists(client, ADMIN_KEY_ID)) return { created: false, file };
    const key = await createApiKey(client, { id: ADMIN_KEY_ID, role: 'admin' }, clock);
    await audit.stage(client, {
      actor: 'system',
      action: 'authn.api_key.created',
      target: `key:${ADMIN_KEY_ID} role=admin`,
      outcome: 'success',
    });
    // Written before COMMIT: if the file cannot be written, no key is created that nobody has.
    await writeFile(file, `${key}\n`, { mode: 0o600 });
    return { created: true, key, file };
  });
}
