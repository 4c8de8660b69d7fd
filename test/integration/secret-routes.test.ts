// The secret routes over a real migrated database: access, all-or-nothing batches, bad paths, audit.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  PgAuditLog,
  type AuditEvent,
  type AuditLog,
  type BatchedChange,
  type AuditRecord,
} from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import type { Database, Queryable } from '../../src/db/index.js';
import type { QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { HallmarkError } from '../../src/errors/index.js';
import type { HallmarkApp } from '../../src/http/index.js';
import { parseSecretPath, PgSecretStore } from '../../src/secrets/index.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { rawHttpsRequest, requestTargetFor } from '../secrets/helpers/raw-https.js';
import { API, buildSecretApp } from '../secrets/helpers/secret-test-app.js';
import { makeTestTls, type TestTls } from '../secrets/helpers/test-tls.js';

/** Delegates to the real log; `failing` makes every write fail as if the database had gone. */
class SwitchableAudit implements AuditLog {
  failing = false;
  constructor(private readonly inner: AuditLog) {}
  append(event: AuditEvent): Promise<AuditRecord> {
    return this.failing ? this.#down() : this.inner.append(event);
  }
  appendWith<T>(change: BatchedChange<T>, event: AuditEvent): Promise<AuditRecord> {
    return this.failing ? this.#down() : this.inner.appendWith(change, event);
  }
  stage(tx: Queryable, events: AuditEvent | readonly AuditEvent[]): Promise<void> {
    return this.failing ? this.#down() : this.inner.stage(tx, events);
  }
  stageWith<R extends QueryResultRow>(
    db: Queryable,
    change: QueryConfig,
    events: AuditEvent | readonly AuditEvent[],
  ): Promise<QueryResult<R>> {
    return this.failing ? this.#down() : this.inner.stageWith<R>(db, change, events);
  }
  settle(): Promise<void> {
    return this.inner.settle();
  }
  #down(): Promise<never> {
    return Promise.reject(new HallmarkError('ERR_AUDIT_UNAVAILABLE', { detail: 'switched off' }));
  }
}

const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** 50+ paths that must all be refused (the path rules of docs/policy.md). */
const BAD_PATHS: readonly [string, string][] = [
  ['parent segment', '..'],
  ['parent prefix', '../payments/db'],
  ['parent inside', 'payments/../admin/db'],
  ['parent at end', 'payments/..'],
  ['current segment', '.'],
  ['current prefix', './payments/db'],
  ['current inside', 'payments/./db'],
  ['current at end', 'payments/.'],
  ['encoded parent', '%2e%2e/payments/db'],
  ['encoded parent upper', '%2E%2E/x'],
  ['half-encoded parent', '.%2e/x'],
  ['encoded slash', 'payments%2Fdb'],
  ['encoded slash lower', 'payments%2fdb'],
  ['double-encoded parent', '%252e%252e/x'],
  ['encoded NUL', 'payments/db%00'],
  ['NUL', 'payments/db\u0000.txt'],
  ['only NUL', '\u0000'],
  ['empty', ''],
  ['only slash', '/'],
  ['double slash', 'payments//db'],
  ['leading double slash', '//payments/db'],
  ['leading slash', '/payments/db'],
  ['trailing slash', 'payments/db/'],
  ['backslash', 'payments\\db'],
  ['backslash parent', '..\\payments'],
  ['513 bytes', 'a'.repeat(513)],
  ['513 bytes in segments', `${'a/'.repeat(256)}b`],
  ['600 bytes', 'x'.repeat(600)],
  ['division slash U+2215', 'payments\u2215db'],
  ['fullwidth solidus U+FF0F', 'payments\uff0fdb'],
  ['fullwidth dots', '\uff0e\uff0e/payments'],
  ['one dot leader U+2024', '\u2024\u2024/x'],
  ['big solidus U+29F8', 'payments\u29f8db'],
  ['fraction slash U+2044', 'payments\u2044db'],
  ['Cyrillic a', 'p\u0430yments/db'],
  ['zero-width space', 'payments/\u200bdb'],
  ['no-break space', 'payments/\u00a0db'],
  ['right-to-left override', 'payments/\u202edb'],
  ['combining long solidus', 'payments/.\u0338'],
  ['lone surrogate', 'payments/\ud800'],
  ['emoji', 'payments/\ud83d\udd11'],
  ['Latin-1 letter', 'payments/\u00f8'],
  ['space', 'payments/db password'],
  ['tab', 'payments/\tdb'],
  ['newline', 'payments/db\nx'],
  ['carriage return', 'payments/db\rx'],
  ['DEL', 'payments/db\u007f'],
  ['question mark', 'payments/db?version=1'],
  ['hash', 'payments/db#x'],
  ['semicolon', 'payments/db;x'],
  ['colon', 'payments:db'],
  ['pipe (AAD separator)', 'payments|db'],
  ['asterisk', 'payments/*'],
  ['percent', 'payments/100%'],
  ['tilde', '~/db'],
  ['at sign', 'payments@db'],
];

describe('secret routes', () => {
  let db: Database;
  let app: HallmarkApp;
  let tls: TestTls;
  let port: number;
  let audit: SwitchableAudit;
  let store: PgSecretStore;

  const auditRows = async (): Promise<Record<string, string>[]> => {
    await audit.settle();
    return (await db.query('SELECT * FROM audit_log ORDER BY seq')).rows as Record<
      string,
      string
    >[];
  };
  const batch = (paths: unknown, token = 'api-token') =>
    app.inject({
      method: 'POST',
      url: '/v1/secrets/batch',
      headers: auth(token),
      payload: { paths },
    });
  const lastAudit = async (): Promise<Record<string, string>> => (await auditRows()).at(-1) ?? {};

  beforeAll(async () => {
    ({ db } = await createMigratedDatabase());
    tls = makeTestTls();
    audit = new SwitchableAudit(new PgAuditLog(db, systemClock));
    store = new PgSecretStore({
      db,
      master: new MasterKey(randomBytes(32)),
      clock: systemClock,
      maxValueBytes: 1024,
    });
    app = await buildSecretApp({ tls, store, audit, maxValueBytes: 1024 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
    await store.put(parseSecretPath('payments/db-password'), 'db-v1', 'key:admin');
    await store.put(parseSecretPath('payments/db-password'), 'db-v2', 'key:admin');
    await store.put(parseSecretPath('payments/api/key'), 'api-key-value', 'key:admin');
    await store.put(parseSecretPath('payments/worker/token'), 'worker-token-value', 'key:admin');
    await store.put(parseSecretPath('billing/db-password'), 'billing-secret-value', 'key:admin');
  });

  afterAll(async () => {
    await app.close();
    await db.close();
  });

  beforeEach(() => {
    audit.failing = false;
  });

  describe('GET /v1/secrets/<path>', () => {
    it('returns the newest version and audits path@version, never the value', async () => {
      const res = await app.inject({
        method: 'GET',
        url: '/v1/secrets/payments/db-password',
        headers: auth('api-token'),
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ path: 'payments/db-password', version: 2, value: 'db-v2' });
      expect(res.headers['cache-control']).toBe('no-store');
      expect(await lastAudit()).toMatchObject({
        actor: API,
        action: 'secret.read',
        target: 'payments/db-password@v2',
        outcome: 'success',
        request_id: res.headers['x-request-id'],
      });
    });

    it('returns an old version with ?version=N', async () => {
      const res = await app.inject({
        method: 'GET',
        url: '/v1/secrets/payments/db-password?version=1',
        headers: auth('api-token'),
      });
      expect(res.json()).toEqual({ path: 'payments/db-password', version: 1, value: 'db-v1' });
      expect((await lastAudit()).target).toBe('payments/db-password@v1');
    });

    it('refuses a malformed version and an unknown one', async () => {
      for (const bad of ['0', '-1', '1.5', 'abc', '01', '9999999999']) {
        const res = await app.inject({
          method: 'GET',
          url: `/v1/secrets/payments/db-password?version=${bad}`,
          headers: auth('api-token'),
        });
        expect(res.json().error.code).toBe('ERR_REQUEST_INVALID');
      }
      const missing = await app.inject({
        method: 'GET',
        url: '/v1/secrets/payments/db-password?version=3',
        headers: auth('api-token'),
      });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error).toMatchObject({
        code: 'ERR_SECRET_NOT_FOUND',
        details: { path: 'payments/db-password' },
      });
    });

    it('denies a path outside the grant with 403 and a secret.denied row', async () => {
      const res = await app.inject({
        method: 'GET',
        url: '/v1/secrets/billing/db-password',
        headers: auth('api-token'),
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toMatchObject({
        code: 'ERR_POLICY_DENIED',
        details: { path: 'billing/db-password' },
      });
      expect(res.body).not.toContain('billing-secret-value');
      expect(await lastAudit()).toMatchObject({
        actor: API,
        action: 'secret.denied',
        target: 'read billing/db-password',
        outcome: 'denied',
        reason: 'ERR_POLICY_DENIED',
      });
    });

    it('refuses without a token (401, audited as anonymous) and with an unknown one', async () => {
      const none = await app.inject({ method: 'GET', url: '/v1/secrets/payments/db-password' });
      expect(none.statusCode).toBe(401);
      expect(none.json().error.code).toBe('ERR_AUTHN_TOKEN_MISSING');
      expect(await lastAudit()).toMatchObject({
        actor: 'anonymous',
        action: 'secret.denied',
        reason: 'ERR_AUTHN_TOKEN_MISSING',
      });
      const bad = await app.inject({
        method: 'GET',
        url: '/v1/secrets/payments/db-password',
        headers: auth('forged'),
      });
      expect(bad.json().error.code).toBe('ERR_AUTHN_TOKEN_INVALID');
    });

    it('lets the admin read any path', async () => {
      const res = await app.inject({
        method: 'GET',
        url: '/v1/secrets/billing/db-password',
        headers: auth('admin-token'),
      });
      expect(res.json()).toMatchObject({ value: 'billing-secret-value' });
      expect(await lastAudit()).toMatchObject({ actor: 'key:admin', action: 'secret.read' });
    });

    it('fails closed with 500 ERR_SECRET_INTEGRITY (audited) when rows were swapped', async () => {
      await store.put(parseSecretPath('payments/swap/a'), 'swap-a', 'key:admin');
      await store.put(parseSecretPath('payments/swap/b'), 'swap-b', 'key:admin');
      await db.query(`
        UPDATE secret_versions AS t SET ciphertext = o.ciphertext, wrapped_key = o.wrapped_key
          FROM secret_versions AS o
         WHERE (t.path, o.path) IN (('payments/swap/a', 'payments/swap/b'),
                                    ('payments/swap/b', 'payments/swap/a'))`);
      for (const path of ['payments/swap/a', 'payments/swap/b']) {
        const res = await app.inject({
          method: 'GET',
          url: `/v1/secrets/${path}`,
          headers: auth('api-token'),
        });
        expect(res.statusCode).toBe(500);
        expect(res.json().error.code).toBe('ERR_SECRET_INTEGRITY');
        expect(res.body).not.toMatch(/swap-[ab]/);
        expect(await lastAudit()).toMatchObject({
          actor: API,
          action: 'secret.read',
          target: path,
          outcome: 'error',
          reason: 'ERR_SECRET_INTEGRITY',
        });
      }
      const batch = await app.inject({
        method: 'POST',
        url: '/v1/secrets/batch',
        headers: auth('api-token'),
        payload: { paths: ['payments/api/key', 'payments/swap/a'] },
      });
      expect(batch.statusCode).toBe(500);
      expect(batch.body).not.toContain('api-key-value');
    });

    it('answers 503 and sends no value when the audit row cannot be written', async () => {
      audit.failing = true;
      const res = await app.inject({
        method: 'GET',
        url: '/v1/secrets/payments/db-password',
        headers: auth('api-token'),
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('ERR_AUDIT_UNAVAILABLE');
      expect(res.body).not.toContain('db-v2');
    });
  });

  describe('PUT /v1/secrets/<path>', () => {
    it('writes a new version with the write grant and audits it without the value', async () => {
      const put = (value: string) =>
        app.inject({
          method: 'PUT',
          url: '/v1/secrets/payments/api/session-key',
          headers: auth('api-token'),
          payload: { value },
        });
      const first = await put('session-value-1');
      expect(first.statusCode).toBe(200);
      expect(first.json()).toEqual({ path: 'payments/api/session-key', version: 1 });
      const second = await put('session-value-2');
      expect(second.json()).toEqual({ path: 'payments/api/session-key', version: 2 });
      expect(await lastAudit()).toMatchObject({
        actor: API,
        action: 'secret.write',
        target: 'payments/api/session-key@v2',
        outcome: 'success',
      });
      const rows = JSON.stringify(await auditRows());
      expect(rows).not.toContain('session-value');
      expect((await store.get(parseSecretPath('payments/api/session-key'))).value).toBe(
        'session-value-2',
      );
    });

    it('refuses a write with only a read grant (403), leaving the store unchanged', async () => {
      const before = await store.count();
      const res = await app.inject({
        method: 'PUT',
        url: '/v1/secrets/payments/db-password',
        headers: auth('api-token'),
        payload: { value: 'attacker-value' },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('ERR_POLICY_DENIED');
      expect(await store.count()).toEqual(before);
      expect(await lastAudit()).toMatchObject({
        action: 'secret.denied',
        target: 'write payments/db-password',
        reason: 'ERR_POLICY_DENIED',
      });
      expect(JSON.stringify(await auditRows())).not.toContain('attacker-value');
    });

    it('refuses oversized and malformed values by code', async () => {
      const before = await store.count();
      const cases: [unknown, number, string][] = [
        ['x'.repeat(1025), 413, 'ERR_SECRET_TOO_LARGE'],
        ['€'.repeat(342), 413, 'ERR_SECRET_TOO_LARGE'],
        ['a\ud800b', 400, 'ERR_SECRET_BAD_VALUE'],
        ['\udc00', 400, 'ERR_SECRET_BAD_VALUE'],
        [42, 400, 'ERR_REQUEST_INVALID'],
        [null, 400, 'ERR_REQUEST_INVALID'],
      ];
      for (const [value, status, code] of cases) {
        const res = await app.inject({
          method: 'PUT',
          url: '/v1/secrets/payments/api/session-key',
          headers: { ...auth('admin-token'), 'content-type': 'application/json' },
          payload: JSON.stringify({ value }),
          // JSON.stringify keeps lone surrogates as \ud800 escapes, which JSON.parse restores.
        });
        expect([res.statusCode, res.json().error.code]).toEqual([status, code]);
      }
      const huge = await app.inject({
        method: 'PUT',
        url: '/v1/secrets/payments/api/session-key',
        headers: { ...auth('admin-token'), 'content-type': 'application/json' },
        payload: JSON.stringify({ value: 'x'.repeat(8000) }),
      });
      expect(huge.statusCode).toBe(413);
      expect(await store.count()).toEqual(before);
      expect((await lastAudit()).reason).toBe('ERR_REQUEST_TOO_LARGE');
    });

    it('accepts the limit exactly (counted in UTF-8 bytes) and lets the admin write anywhere', async () => {
      const res = await app.inject({
        method: 'PUT',
        url: '/v1/secrets/anywhere/limit',
        headers: auth('admin-token'),
        payload: { value: '€'.repeat(341) + 'x' },
      });
      expect(res.json()).toEqual({ path: 'anywhere/limit', version: 1 });
    });

    it('writes nothing when the audit row cannot be committed (503)', async () => {
      const before = await store.get(parseSecretPath('payments/api/session-key'));
      audit.failing = true;
      const res = await app.inject({
        method: 'PUT',
        url: '/v1/secrets/payments/api/session-key',
        headers: auth('api-token'),
        payload: { value: 'unaudited' },
      });
      expect(res.statusCode).toBe(503);
      audit.failing = false;
      expect(await store.get(parseSecretPath('payments/api/session-key'))).toMatchObject({
        version: before.version,
      });
    });
  });

  describe('POST /v1/secrets/batch', () => {
    it('returns every granted path in one response and one audit row', async () => {
      const before = (await auditRows()).length;
      const res = await batch(['payments/db-password', 'payments/api/key']);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        secrets: { 'payments/db-password': 'db-v2', 'payments/api/key': 'api-key-value' },
      });
      const rows = await auditRows();
      expect(rows.length).toBe(before + 1);
      expect(rows.at(-1)).toMatchObject({
        actor: API,
        action: 'secret.read',
        target: 'payments/db-password@v2,payments/api/key@v1',
        outcome: 'success',
      });
    });

    it('is all or nothing: one denied path → 403 naming it and no values at all', async () => {
      const res = await batch(['payments/db-password', 'billing/db-password', 'payments/api/key']);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({
        error: {
          code: 'ERR_POLICY_DENIED',
          message: expect.stringContaining('billing/db-password'),
          details: { path: 'billing/db-password' },
        },
      });
      for (const value of ['db-v2', 'api-key-value', 'billing-secret-value']) {
        expect(res.body).not.toContain(value);
      }
      expect(await lastAudit()).toMatchObject({
        action: 'secret.denied',
        target: 'read billing/db-password',
        reason: 'ERR_POLICY_DENIED',
      });
    });

    it('names the first denied path in request order', async () => {
      const res = await batch(['payments/db-password', 'zeta/x', 'alpha/y'], 'worker-token');
      expect(res.json().error.details).toEqual({ path: 'payments/db-password' });
    });

    it('checks every path is well-formed before any access check', async () => {
      const res = await batch(['billing/db-password', 'payments/../billing/db-password']);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({
        code: 'ERR_SECRET_BAD_PATH',
        details: { path: 'payments/../billing/db-password' },
      });
      // The refused path is audited quoted (it is not a SecretPath), the well-formed one not at all.
      expect(await lastAudit()).toMatchObject({
        action: 'secret.denied',
        target: 'read "payments/../billing/db-password"',
        reason: 'ERR_SECRET_BAD_PATH',
      });
    });

    it('answers 404 naming the first missing path, with no values', async () => {
      const res = await batch(['payments/api/key', 'payments/missing-1', 'payments/missing-2']);
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toMatchObject({
        code: 'ERR_SECRET_NOT_FOUND',
        details: { path: 'payments/missing-1' },
      });
      expect(res.body).not.toContain('api-key-value');
      expect(await lastAudit()).toMatchObject({
        action: 'secret.denied',
        target: 'read payments/missing-1',
        reason: 'ERR_SECRET_NOT_FOUND',
      });
    });

    it('refuses empty, oversized and duplicate lists', async () => {
      expect((await batch([])).json().error.code).toBe('ERR_REQUEST_INVALID');
      const many = Array.from({ length: 501 }, (_, i) => `payments/p${i}`);
      expect((await batch(many)).json().error.code).toBe('ERR_REQUEST_INVALID');
      expect((await batch(['payments/api/key', 'payments/api/key'])).json().error.code).toBe(
        'ERR_REQUEST_INVALID',
      );
      expect((await batch('payments/api/key')).json().error.code).toBe('ERR_REQUEST_INVALID');
    });

    it('accepts 500 paths of 512 bytes (the limits) and serves a path named __proto__', async () => {
      const long = `payments/${'l'.repeat(503)}`;
      expect(Buffer.byteLength(long)).toBe(512);
      await store.put(parseSecretPath(long), 'long-value', 'key:admin');
      await store.put(parseSecretPath('__proto__'), 'proto-value', 'key:admin');
      const res = await batch(['__proto__', long], 'admin-token');
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body)).toEqual(
        JSON.parse(`{"secrets": {"__proto__": "proto-value", "${long}": "long-value"}}`),
      );
      const paths = Array.from(
        { length: 500 },
        (_, i) => `${long.slice(0, 505)}/${String(i).padStart(6, '0')}`,
      );
      expect(paths.every((p) => Buffer.byteLength(p) === 512)).toBe(true);
      const missing = await batch(paths, 'admin-token');
      expect(missing.json().error).toMatchObject({
        code: 'ERR_SECRET_NOT_FOUND',
        details: { path: paths[0] },
      });
    });
  });

  describe(`${BAD_PATHS.length} bad paths`, () => {
    it('has at least 50 cases', () => {
      expect(BAD_PATHS.length).toBeGreaterThanOrEqual(50);
    });

    it.each(BAD_PATHS)(
      'refuses %s in GET, PUT and batch: 400, audited, no state change',
      async (_name, path) => {
        const counts = await store.count();
        const auditBefore = (await auditRows()).length;
        const target = requestTargetFor(path);
        const get = await rawHttpsRequest({
          port,
          ca: tls.caPem,
          method: 'GET',
          target,
          headers: auth('admin-token'),
        });
        const put = await rawHttpsRequest({
          port,
          ca: tls.caPem,
          method: 'PUT',
          target,
          headers: auth('admin-token'),
          body: JSON.stringify({ value: 'should-never-be-stored' }),
        });
        const post = await batch(['payments/api/key', path], 'admin-token');
        for (const res of [get, put, { status: post.statusCode, body: post.body }]) {
          expect(res.status).toBe(400);
          expect(JSON.parse(res.body).error.code).toBe('ERR_SECRET_BAD_PATH');
          expect(res.body).not.toContain('api-key-value');
        }
        expect(post.json().error.details).toEqual({ path });
        expect(await store.count()).toEqual(counts);
        const rows = (await auditRows()).slice(auditBefore);
        expect(rows.map((r) => [r.action, r.outcome, r.reason])).toEqual([
          ['secret.denied', 'denied', 'ERR_SECRET_BAD_PATH'],
          ['secret.denied', 'denied', 'ERR_SECRET_BAD_PATH'],
          ['secret.denied', 'denied', 'ERR_SECRET_BAD_PATH'],
        ]);
        expect(rows.map((r) => r.target?.split(' ')[0])).toEqual(['read', 'write', 'read']);
        expect(JSON.stringify(rows)).not.toContain('should-never-be-stored');
      },
    );

    it('refuses invalid percent-encodings at the router, before any route runs', async () => {
      // The router cannot decode these, so it answers 400 itself (fastify's FST_ERR_BAD_URL);
      // what matters here is that nothing is read or written.
      for (const target of ['/v1/secrets/%C0%AE%C0%AE/x', '/v1/secrets/payments/%zz']) {
        const res = await rawHttpsRequest({
          port,
          ca: tls.caPem,
          method: 'GET',
          target,
          headers: auth('admin-token'),
        });
        expect(res.status).toBe(400);
        expect(res.body).not.toContain('value');
      }
    });

    it('refuses a secret path spelled with an encoded prefix the router would decode', async () => {
      const res = await rawHttpsRequest({
        port,
        ca: tls.caPem,
        method: 'GET',
        target: '/v1/%73ecrets/payments/api/key',
        headers: auth('admin-token'),
      });
      expect(res.status).toBe(400);
      expect(res.body).not.toContain('api-key-value');
    });
  });

  it('never writes a stored value into any audit column', async () => {
    const values = [
      'db-v1',
      'db-v2',
      'api-key-value',
      'worker-token-value',
      'billing-secret-value',
    ];
    const rows = await auditRows();
    expect(rows.length).toBeGreaterThan(100);
    const text = JSON.stringify(rows);
    for (const value of values) expect(text).not.toContain(value);
  });
});
