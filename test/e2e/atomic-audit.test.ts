// Every state change commits with its audit row: when the row cannot be written, nothing changes.
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

const POLICY = `
workloads:
  - namespace: payments
    serviceAccount: api
`;
const NEXT_POLICY = `${POLICY}  - namespace: shop\n    serviceAccount: web\n`;
const API_ID = 'spiffe://hallmark.local/ns/payments/sa/api';

describe('a change commits with its audit row, or not at all', () => {
  let stack: HallmarkStack;
  let admin: Record<string, string>;
  const broken: string[] = [];

  beforeAll(async () => {
    stack = await startStack({ policy: POLICY });
    stack.k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
    const adminKey = (await readFile(stack.server.admin.file, 'utf8')).trim();
    const login = await stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'admin', api_key: adminKey },
    });
    admin = { authorization: `Bearer ${login.body.token as string}` };
    await stack.server.db.query(`CREATE FUNCTION refuse_insert() RETURNS trigger
      LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'inserts into % refused', TG_TABLE_NAME; END $$`);
    // The storage under a table is full: the database's fault (SQLSTATE 53100), not the row's.
    await stack.server.db.query(`CREATE FUNCTION storage_full() RETURNS trigger
      LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no space left for %', TG_TABLE_NAME
      USING ERRCODE = 'disk_full'; END $$`);
    // The session ends under the statement, as when PostgreSQL is stopped or the network drops.
    await stack.server.db.query(`CREATE FUNCTION drop_connection() RETURNS trigger
      LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$`);
  });
  afterEach(repair);
  afterAll(() => stack.close());

  /** Undoes everything a test broke (each entry a statement). */
  async function repair(): Promise<void> {
    for (const undo of broken.splice(0)) await stack.server.db.query(undo);
  }

  /**
   * Makes every insert into `tables` violate a constraint (SQLSTATE 23514: the row's fault, as
   * a defect would cause), until the end of the test.
   */
  async function refuseInserts(...tables: string[]): Promise<void> {
    for (const table of tables) {
      await stack.server.db.query(
        `ALTER TABLE ${table} ADD CONSTRAINT refuse_insert CHECK (false) NOT VALID`,
      );
      broken.push(`ALTER TABLE ${table} DROP CONSTRAINT refuse_insert`);
    }
  }
  /** Makes every insert into `tables` fail as a full disk would, until the end of the test. */
  async function fillStorageOf(...tables: string[]): Promise<void> {
    for (const table of tables) {
      await stack.server.db.query(
        `CREATE TRIGGER storage_full BEFORE INSERT ON ${table}
         FOR EACH ROW EXECUTE FUNCTION storage_full()`,
      );
      broken.push(`DROP TRIGGER storage_full ON ${table}`);
    }
  }
  /** Lets inserts into `table` through but makes the COMMIT of their transaction fail. */
  async function failCommitAfterInsertInto(table: string): Promise<void> {
    await stack.server.db.query(
      `CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON ${table}
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_insert()`,
    );
    broken.push(`DROP TRIGGER refuse_commit ON ${table}`);
  }
  /** Ends the database session of whichever statement inserts into `table`. */
  async function dropConnectionOnInsertInto(table: string): Promise<void> {
    await stack.server.db.query(
      `CREATE TRIGGER drop_connection BEFORE INSERT ON ${table}
       FOR EACH ROW EXECUTE FUNCTION drop_connection()`,
    );
    broken.push(`DROP TRIGGER drop_connection ON ${table}`);
  }
  /** An audit log whose every insert fails, staged or appended. */
  const breakAuditLog = (): Promise<void> => fillStorageOf('audit_pending', 'audit_log');

  async function rows(sql: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
    return (await stack.server.db.query(sql, values)).rows;
  }
  async function auditRows(action: string): Promise<Record<string, unknown>[]> {
    await stack.server.audit.settle();
    return rows(
      'SELECT actor, target, outcome, reason, request_id FROM audit_log WHERE action = $1 ORDER BY seq',
      [action],
    );
  }

  it('PUT /v1/policy answers 503 and leaves the policy version as it was', async () => {
    const before = await rows('SELECT version FROM policies ORDER BY version');
    const inForce = stack.server.policy.version();
    await breakAuditLog();
    const put = await stack.call('PUT', '/v1/policy', {
      raw: NEXT_POLICY,
      headers: { ...admin, 'content-type': 'application/yaml' },
    });
    expect(put.status).toBe(503);
    expect(put.body.error?.code).toBe('ERR_AUDIT_UNAVAILABLE');
    expect(await rows('SELECT version FROM policies ORDER BY version')).toEqual(before);
    expect(stack.server.policy.version()).toBe(inForce);
  });

  it('a forced signing-key rotation changes no key when its rows cannot be written', async () => {
    const keys = 'SELECT kid, status FROM token_signing_keys ORDER BY kid';
    const before = await rows(keys);
    await breakAuditLog();
    const rotation = stack.server.authn.keyring.rotate({ wait: true, force: true, actor: 'test' });
    await expect(rotation).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    expect(await rows(keys)).toEqual(before);
  });

  it('POST /v1/ca/rotate answers 503 and leaves the CAs and the bundle as they were', async () => {
    const state = 'SELECT id, status FROM ca_authorities ORDER BY id';
    const before = await rows(state);
    const sequence = await rows('SELECT sequence FROM bundle_state');
    await breakAuditLog();
    const rotate = await stack.call('POST', '/v1/ca/rotate', { headers: admin });
    expect(rotate.status).toBe(503);
    expect(rotate.body.error?.code).toBe('ERR_AUDIT_UNAVAILABLE');
    expect(await rows(state)).toEqual(before);
    expect(await rows('SELECT sequence FROM bundle_state')).toEqual(sequence);
  });

  it('a secret write answers 503, creates no version and consumes no version number', async () => {
    const write = (value: string) =>
      stack.call('PUT', '/v1/secrets/atomic/db', { body: { value }, headers: admin });
    expect((await write('first')).body).toMatchObject({ version: 1 });
    await breakAuditLog();
    const refused = await write('never stored');
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('ERR_AUDIT_UNAVAILABLE');
    expect(await rows("SELECT version FROM secret_versions WHERE path = 'atomic/db'")).toEqual([
      { version: 1 },
    ]);
    await repair();
    expect((await write('second')).body).toMatchObject({ version: 2 });
    const read = await stack.call('GET', '/v1/secrets/atomic/db', { headers: admin });
    expect(read.body).toMatchObject({ version: 2, value: 'second' });
    const written = (await auditRows('secret.write'))
      .filter((row) => row.outcome === 'success')
      .map((row) => row.target);
    expect(written.filter((t) => String(t).startsWith('atomic/db'))).toEqual([
      'atomic/db@v1',
      'atomic/db@v2',
    ]);
  });

  it('a secret write whose COMMIT fails leaves no row, and its version number is not reused in the log', async () => {
    const write = (value: string) =>
      stack.call('PUT', '/v1/secrets/atomic/commit', { body: { value }, headers: admin });
    expect((await write('first')).body).toMatchObject({ version: 1 });
    await failCommitAfterInsertInto('secret_versions');
    expect((await write('lost at commit')).status).toBeGreaterThanOrEqual(500);
    await repair();
    expect((await write('second')).body).toMatchObject({ version: 2 });
    // The failed write is audited as the error it was, never as a version written.
    const rowsFor = (await auditRows('secret.write'))
      .filter((row) => String(row.target).startsWith('atomic/commit'))
      .map((row) => [row.target, row.outcome]);
    expect(rowsFor).toEqual([
      ['atomic/commit@v1', 'success'],
      ['atomic/commit', 'error'],
      ['atomic/commit@v2', 'success'],
    ]);
  });

  it("a secret write names the failure: the database's (503), or the change's own (500)", async () => {
    const write = (value: string) =>
      stack.call('PUT', '/v1/secrets/atomic/classified', { body: { value }, headers: admin });
    expect((await write('first')).body).toMatchObject({ version: 1 });

    await dropConnectionOnInsertInto('secret_versions');
    const dropped = await write('connection lost');
    expect(dropped.status).toBe(503);
    expect(dropped.body.error?.code).toBe('ERR_AUDIT_UNAVAILABLE');
    await repair();

    await refuseInserts('secret_versions');
    const violated = await write('constraint violated');
    expect(violated.status).toBe(500);
    expect(violated.body.error?.code).toBe('ERR_INTERNAL');
    await repair();

    expect(
      await rows("SELECT version FROM secret_versions WHERE path = 'atomic/classified'"),
    ).toEqual([{ version: 1 }]);
    expect((await write('second')).body).toMatchObject({ version: 2 });
  });

  it('a CA rotation whose COMMIT fails leaves no ca.* row', async () => {
    const before = await auditRows('ca.activated');
    await failCommitAfterInsertInto('ca_authorities');
    const rotate = await stack.call('POST', '/v1/ca/rotate', { headers: admin });
    expect(rotate.status).toBeGreaterThanOrEqual(500);
    await repair();
    expect(await auditRows('ca.activated')).toEqual(before);
    expect(await auditRows('ca.prepared')).toEqual([]);
  });

  describe('SVID issuance', () => {
    const csr = buildCsr(generateKeyPair('ec-p256'));
    const issue = async () => {
      const token = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
      return stack.call('POST', '/v1/svid/x509', {
        body: { csr },
        headers: { authorization: `Bearer ${token}` },
      });
    };
    const issuedRows = async (): Promise<number> => (await auditRows('svid.x509.issued')).length;
    const records = async (): Promise<number> =>
      (await rows('SELECT serial FROM issued_certificates')).length;

    it('answers 503 with neither record nor audit row when the audit row cannot be written', async () => {
      const [audited, recorded] = [await issuedRows(), await records()];
      await fillStorageOf('audit_log');
      const refused = await issue();
      expect(refused.status).toBe(503);
      expect(refused.body.error?.code).toBe('ERR_AUDIT_UNAVAILABLE');
      expect(await records()).toBe(recorded);
      expect(await issuedRows()).toBe(audited);
    });

    it('answers 500 ERR_INTERNAL, not an audit failure, with neither record nor audit row when the record cannot be inserted', async () => {
      const [audited, recorded] = [await issuedRows(), await records()];
      await refuseInserts('issued_certificates');
      const refused = await issue();
      expect(refused.status).toBe(500);
      expect(refused.body.error?.code).toBe('ERR_INTERNAL');
      expect(await records()).toBe(recorded);
      expect(await issuedRows()).toBe(audited);
    });

    it('answers 503 ERR_AUDIT_UNAVAILABLE with neither record nor audit row when the database goes away', async () => {
      const [audited, recorded] = [await issuedRows(), await records()];
      await dropConnectionOnInsertInto('issued_certificates');
      const refused = await issue();
      expect(refused.status).toBe(503);
      expect(refused.body.error?.code).toBe('ERR_AUDIT_UNAVAILABLE');
      await repair();
      expect(await records()).toBe(recorded);
      expect(await issuedRows()).toBe(audited);
    });

    it('records exactly one issuance and one audit row naming its serial on success', async () => {
      const [audited, recorded] = [await issuedRows(), await records()];
      const issued = await issue();
      expect(issued.status).toBe(200);
      expect(await records()).toBe(recorded + 1);
      const rowsNow = await auditRows('svid.x509.issued');
      expect(rowsNow).toHaveLength(audited + 1);
      const [serial] = (
        await rows('SELECT serial FROM issued_certificates ORDER BY issued_at DESC')
      ).map((row) => row.serial as string);
      expect(rowsNow.at(-1)).toMatchObject({ actor: API_ID, outcome: 'success' });
      expect(String(rowsNow.at(-1)?.target)).toContain(`serial=${serial}`);
    });
  });

  it('GET /v1/audit shows the row of a change answered just before', async () => {
    for (let i = 0; i < 5; i++) {
      const [head] = await rows('SELECT coalesce(max(seq), 0)::int AS seq FROM audit_log');
      const put = await stack.call('PUT', '/v1/secrets/atomic/seen', {
        body: { value: `v${i}` },
        headers: admin,
      });
      const page = await stack.call('GET', `/v1/audit?after=${head?.seq as number}`, {
        headers: admin,
      });
      const targets = (page.body.events as { target: string }[]).map((e) => e.target);
      expect(targets).toContain(`atomic/seen@v${put.body.version as number}`);
    }
  });

  it('audits a successful GET /v1/policy', async () => {
    const read = await stack.call('GET', '/v1/policy', { headers: admin });
    expect(read.status).toBe(200);
    const reads = await auditRows('policy.read');
    expect(reads.at(-1)).toMatchObject({
      actor: 'key:admin',
      target: `policy@${read.body.version as number}`,
      outcome: 'success',
      reason: '',
    });
  });
});
