// What the broker's operations run with: the dependencies, resolved once when the plugin is built.
import type { AuditLog } from '../src/audit/index.js';
import type { Clock } from '../src/clock/index.js';
import type { Database, WriteGate } from '../src/db/index.js';
import type { BrokerGrants } from './broker-grants.js';
import type { BrokerApiKeys, BrokerSecrets } from './broker-ports.js';

/** A logger for failures that do not change the response (pino-compatible). */
export interface BrokerLog {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The broker's resolved dependencies. */
export interface BrokerContext {
  readonly db: Database;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly secrets: BrokerSecrets;
  readonly apiKeys: BrokerApiKeys;
  readonly grants: BrokerGrants;
  readonly trustDomain: string;
  /** The Hallmark server URL apps use (`credentials.url`). */
  readonly serverUrl: () => string;
  /** PEM CA certificates that sign the server (`credentials.bundle`), read per bind (rotation). */
  readonly bundlePem: () => string;
  /** The secret store's value limit in UTF-8 bytes, enforced before the first write. */
  readonly maxSecretBytes: number;
  /** Admits changes: one at a time per instance, few at once (shared with secret writes). */
  readonly gate: WriteGate;
}
