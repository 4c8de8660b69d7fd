// What happens once per host before any process serves: data dir, embedded PostgreSQL, migrations, first-start keys.
import type { Logger } from 'pino';
import { PgAuditLog } from '../audit/index.js';
import { bootstrapAdminKey, type AdminBootstrap } from '../authn/index.js';
import type { Clock } from '../clock/index.js';
import type { ServerConfig } from '../config/index.js';
import { loadMasterKey } from '../crypto/index.js';
import { Database, MIGRATIONS, migrate, type EmbeddedCluster } from '../db/index.js';
import { prepareDataDir } from './data-dir.js';
import { startEmbeddedDatabase } from './embedded-database.js';
import { openServerVault, type ServerVault } from './key-vault-setup.js';

/** The prepared host: the database every serving process connects to, and first-start news. */
export interface PreparedHost {
  /** The URL of the database (DATABASE_URL, or the embedded cluster's). */
  readonly databaseUrl: string;
  /** True when this host runs the embedded PostgreSQL. */
  readonly embedded: boolean;
  /** The admin key, when this start created it (it is printed once, then only in its file). */
  readonly admin: AdminBootstrap;
  /** Resolves once the embedded PostgreSQL died for good (never with DATABASE_URL). */
  readonly lost: Promise<Error>;
  /**
   * The key vault, opened before PostgreSQL started (a wrong PKCS#11 module, token or PIN stops
   * start-up first, exit 2). Its owner closes it, not {@link PreparedHost.close}: the lone server
   * signs with it; the cluster's primary, which signs nothing, closes it at once and each worker
   * opens its own. Absent on the host a worker is handed.
   */
  readonly vault?: ServerVault;
  /** Stops the embedded PostgreSQL, after every process using it has stopped. */
  close(): Promise<void>;
}

/**
 * PostgreSQL connections a host may need: each worker's pool (20) and its own sessions
 * (notifications, sink locks), and room for the CLI's offline tools.
 */
export function embeddedMaxConnections(workers: number): number {
  return Math.max(200, workers * 25 + 50);
}

/**
 * Prepares the host. One process does this (the lone server, or the cluster's primary), so the
 * files it makes (master key, admin.key) have one writer; replicas on one database still agree
 * through the advisory locks of migrations and the admin bootstrap.
 */
export async function prepareHost(
  config: ServerConfig,
  log: Logger,
  clock: Clock,
): Promise<PreparedHost> {
  await prepareDataDir(config.dataDir);
  // The token first: a wrong module, label or PIN stops start-up (exit 2) before a database
  // starts.
  const vault = await openServerVault(config.pkcs11, clock);
  let cluster: EmbeddedCluster | undefined;
  let lost = new Promise<Error>(() => undefined);
  if (config.databaseUrl === undefined) {
    try {
      ({ cluster, lost } = await startEmbeddedDatabase(config.dataDir, log, {
        max_connections: String(embeddedMaxConnections(config.workers)),
      }));
    } catch (err) {
      await vault.close().catch(() => undefined);
      throw err;
    }
  }
  const stopCluster = async (): Promise<void> => {
    await cluster?.stop();
  };
  try {
    const databaseUrl = config.databaseUrl ?? (cluster as EmbeddedCluster).url;
    const db = new Database(databaseUrl, { max: 2, log, applicationName: 'hallmark/start' });
    let admin: AdminBootstrap;
    try {
      await migrate(db, MIGRATIONS);
      // Generated on first start into the data dir (create-exclusive); every worker reads it.
      await loadMasterKey(config.masterKey);
      const auditLog = log.child({ component: 'audit' });
      const audit = new PgAuditLog(db, clock, (record) =>
        auditLog.info({ audit: record }, 'audit'),
      );
      try {
        admin = await bootstrapAdminKey(db, config.dataDir, clock, audit);
        await audit.settle(); // chained before the serving processes start
      } finally {
        await audit.stop();
      }
    } finally {
      await db.close();
    }
    return {
      databaseUrl,
      embedded: cluster !== undefined,
      admin,
      lost,
      vault,
      close: stopCluster,
    };
  } catch (err) {
    await stopCluster().catch(() => undefined);
    await vault.close().catch(() => undefined);
    throw err;
  }
}
