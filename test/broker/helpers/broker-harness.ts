// A Hallmark HTTPS app on 127.0.0.1 wired as the server wires it: authn, secret routes, the broker at /v2.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import {
  brokerPlugin,
  BrokerGrants,
  type BrokerApiKeys,
  type BrokerSecrets,
} from '../../../broker/index.js';
import { PgAuditLog, type AuditLog } from '../../../src/audit/index.js';
import { Authentication } from '../../../src/authn/index.js';
import { systemClock } from '../../../src/clock/index.js';
import { MasterKey } from '../../../src/crypto/index.js';
import type { Database } from '../../../src/db/index.js';
import { HallmarkError } from '../../../src/errors/index.js';
import {
  authnRoutes,
  buildApp,
  createLogger,
  createMetricsRegistry,
  secretRoutes,
  type HallmarkApp,
} from '../../../src/http/index.js';
import { canAccess, emptyPolicy } from '../../../src/policy/index.js';
import { PgSecretStore } from '../../../src/secrets/index.js';
import { createMigratedDatabase } from '../../helpers/database.js';
import { makeSelfSignedTls } from './self-signed-tls.js';

export const TRUST_DOMAIN = 'hallmark.local';
export const BROKER_USER = 'platform-user';
export const BROKER_PASSWORD = 'correct horse battery staple';

/** A parsed response. */
export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Record<string, unknown>;
}

/** Options of {@link BrokerHarness.call}. */
export interface CallOptions {
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** Sent as is (set `content-type` yourself). */
  readonly raw?: string;
  /** Basic credentials; `null` sends none. Defaults to the broker's. */
  readonly auth?: { user: string; password: string } | null;
  /** Bearer token instead of basic auth (for /v1 routes). */
  readonly token?: string;
}

/** One audit row as the broker tests read it. */
export interface AuditRow {
  actor: string;
  action: string;
  target: string;
  outcome: string;
  reason: string;
  request_id: string;
}

/** Failures to inject into what the broker (only the broker) depends on. */
export interface Faults {
  /** The broker's audit appends fail. */
  audit: boolean;
  /** The n-th secret write from now (1-based) fails, once. */
  failPut: number | undefined;
  /** Shredding a scope fails. */
  deletePrefix: boolean;
  /** Creating an API key fails. */
  apiKeyCreate: boolean;
}

/** The running app and handles on everything behind it. */
export interface BrokerHarness {
  readonly url: string;
  /** The test database's URL (for a second session, e.g. holding a lock). */
  readonly databaseUrl: string;
  readonly db: Database;
  readonly secrets: PgSecretStore;
  readonly grants: BrokerGrants;
  readonly authn: Authentication;
  readonly bundlePem: string;
  /** Set to make the broker's dependencies fail; all off by default. */
  readonly faults: Faults;
  /** Every log line the app wrote (the production logger, at `trace`). */
  readonly logs: string[];
  call(
    method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST',
    path: string,
    options?: CallOptions,
  ): Promise<Reply>;
  /** Every row that represents broker, secret or key state (audit rows excluded). */
  state(): Promise<unknown>;
  auditRows(): Promise<AuditRow[]>;
  close(): Promise<void>;
}

/**
 * Starts the app. The wiring of `apiKeys` and `access` below is what the server's composition
 * root does: authn's key functions run inside the broker's transaction, the revocation is
 * applied to this replica's list at once, and broker grants are the policy's extra grants.
 */
export async function startBrokerHarness(): Promise<BrokerHarness> {
  const { url: databaseUrl, db } = await createMigratedDatabase();
  const clock = systemClock;
  const audit = new PgAuditLog(db, clock);
  const master = new MasterKey(randomBytes(32));
  const secrets = new PgSecretStore({ db, master, clock });
  const tls = makeSelfSignedTls();
  const quiet = { info: () => undefined, warn: () => undefined };
  const authn = await Authentication.start(
    {
      db,
      master,
      clock,
      audit,
      log: quiet,
      pods: { getPod: async () => null },
      registrationCheck: () => false,
      bundle: () => [],
    },
    { issuer: 'https://127.0.0.1', trustDomain: TRUST_DOMAIN, tokenTtlMs: 480_000, tick: false },
  );
  const grants = await BrokerGrants.open(db, { trustDomain: TRUST_DOMAIN, pollMs: 0 });
  const policy = emptyPolicy({ trustDomain: TRUST_DOMAIN, maxTtlSeconds: 86_400 });
  const apiKeys: BrokerApiKeys = {
    create: (id, actor, tx) => authn.createApiKeyIn(tx, { id, role: 'app' }, actor),
    revoke: async (id, actor, tx) => {
      const revocation = await authn.revokeApiKeyIn(tx, id, actor);
      return revocation === undefined ? undefined : () => authn.revocations.apply(revocation);
    },
  };
  const faults: Faults = {
    audit: false,
    failPut: undefined,
    deletePrefix: false,
    apiKeyCreate: false,
  };
  const down = (): HallmarkError => new HallmarkError('ERR_DB_UNAVAILABLE', { detail: 'injected' });
  const auditDown = (): Promise<never> =>
    Promise.reject(new HallmarkError('ERR_AUDIT_UNAVAILABLE', { detail: 'injected' }));
  const brokerAudit: AuditLog = {
    append: (event) => (faults.audit ? auditDown() : audit.append(event)),
    appendWith: (change, event) => (faults.audit ? auditDown() : audit.appendWith(change, event)),
    stage: (tx, event) => (faults.audit ? auditDown() : audit.stage(tx, event)),
    stageWith: (target, change, event) =>
      faults.audit ? auditDown() : audit.stageWith(target, change, event),
    settle: () => audit.settle(),
  };
  const brokerSecrets: BrokerSecrets = {
    put: async (path, value, actor, options) => {
      if (faults.failPut !== undefined && --faults.failPut === 0) {
        faults.failPut = undefined;
        throw down();
      }
      return secrets.put(path, value, actor, options);
    },
    getMany: (paths) => secrets.getMany(paths),
    deletePrefix: async (prefix, options) => {
      if (faults.deletePrefix) throw down();
      return secrets.deletePrefix(prefix, options);
    },
    count: (prefix) => secrets.count(prefix),
  };
  const brokerApiKeys: BrokerApiKeys = {
    create: async (id, actor, tx) => {
      if (faults.apiKeyCreate) throw down();
      return apiKeys.create(id, actor, tx);
    },
    revoke: (id, actor, tx) => apiKeys.revoke(id, actor, tx),
  };
  let url = '';
  const logs: string[] = [];
  const logger = createLogger('trace', { write: (line: string) => void logs.push(line) });
  const material = { key: tls.keyPem, cert: tls.certPem, ca: [tls.certPem] };
  const app: HallmarkApp = await buildApp({
    audit,
    tls: { current: () => material, onChange: () => () => undefined },
    readiness: async () => ({ ready: true }),
    metrics: createMetricsRegistry(),
    logger,
  });
  await app.register(authnRoutes, { authn, audit });
  await app.register(secretRoutes, {
    store: secrets,
    audit,
    tokens: authn.verifier,
    access: (caller, action, path) => canAccess(policy, caller.id, action, path, grants.current()),
    maxValueBytes: 65_536,
  });
  await app.register(brokerPlugin, {
    prefix: '/v2',
    db,
    audit: brokerAudit,
    clock,
    secrets: brokerSecrets,
    apiKeys: brokerApiKeys,
    grants,
    credentials: { username: BROKER_USER, password: BROKER_PASSWORD },
    trustDomain: TRUST_DOMAIN,
    serverUrl: () => url,
    bundlePem: () => tls.certPem,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  url = `https://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  const agent = new Agent({ connect: { ca: tls.certPem }, connections: 8 });

  return {
    url,
    databaseUrl,
    db,
    secrets,
    grants,
    authn,
    bundlePem: tls.certPem,
    faults,
    logs,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const auth =
        options.auth === undefined
          ? { user: BROKER_USER, password: BROKER_PASSWORD }
          : options.auth;
      if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
      else if (auth !== null) {
        headers['authorization'] =
          `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
      }
      let body: string | undefined = options.raw;
      if (body === undefined && options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await request(`${url}${path}`, {
        method,
        headers,
        body,
        dispatcher: agent,
        headersTimeout: 15_000,
        bodyTimeout: 15_000,
      });
      const text = await response.body.text();
      let parsed: Record<string, unknown>;
      try {
        parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        parsed = { text };
      }
      return { status: response.statusCode, headers: response.headers, body: parsed };
    },
    async state() {
      const rows = async (sql: string): Promise<unknown[]> => (await db.query(sql)).rows;
      return {
        instances: await rows('SELECT * FROM osb_instances ORDER BY instance_id'),
        bindings: await rows('SELECT * FROM osb_bindings ORDER BY binding_id'),
        grantVersion: await rows('SELECT version::text FROM osb_grant_version'),
        secretHeads: await rows('SELECT * FROM secret_heads ORDER BY path'),
        secretVersions: await rows(
          'SELECT path, version, wrapped_key, ciphertext FROM secret_versions ORDER BY path, version',
        ),
        apiKeys: await rows('SELECT id, key_hash, role, revoked_at FROM api_keys ORDER BY id'),
        revocations: await rows('SELECT identity, revoked_at FROM revocations ORDER BY identity'),
      };
    },
    async auditRows() {
      await audit.settle();
      const result = await db.query<AuditRow>(
        'SELECT actor, action, target, outcome, reason, request_id FROM audit_log ORDER BY seq',
      );
      return result.rows;
    },
    async close() {
      await agent.close();
      await app.close();
      grants.close();
      authn.stop();
      await audit.stop();
      await db.close();
    },
  };
}
