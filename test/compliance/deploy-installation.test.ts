// deploy/ with its documented settings passes every control that does not need an HSM; then the
// admin key ages, the sink's receiver dies and key rotation stalls, and the controls say so.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import type { JSONWebKeySet } from 'jose';
import { verifyReport, type ComplianceReport } from '../../src/compliance/index.js';
import { findObject } from '../deploy/deploy-inventory.js';
import { containerEnv, containerNamed } from '../deploy/pod-env.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';
import {
  RSYSLOG_SKIP_REASON,
  RSYSLOG_TESTS,
  startRsyslog,
  type RsyslogReceiver,
} from '../helpers/rsyslog-receiver.js';
import { eventually, testPki } from '../sink/sink-fixtures.js';
import { complianceReport, control, deployFiles } from './compliance-fixture.js';

/** Needs an HSM, which deploy/ leaves to the operator. */
const NEEDS_HSM = ['HM-KEY-08'];

const DAY = 86_400_000;

describe.skipIf(!RSYSLOG_TESTS)('the deploy/ installation', () => {
  let dir: string;
  let stack: HallmarkStack;
  let rsyslog: RsyslogReceiver;
  const clock = { offset: 0, now: () => Date.now() + clock.offset };

  beforeAll(async () => {
    if (!RSYSLOG_TESTS) console.warn(RSYSLOG_SKIP_REASON);
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-deploy-compliance-'));
    const pki = await testPki();
    rsyslog = await startRsyslog({
      protocol: 'tls',
      tls: { ...pki.server, ca: pki.ca, requireClientCert: false },
    });
    await writeFile(path.join(dir, 'syslog-ca.pem'), pki.ca);
    // The Secret volume of deploy/server.yaml: master.key at mode 0440 outside the data dir.
    const masterKey = path.join(dir, 'master-key', 'master.key');
    await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(masterKey)));
    await writeFile(masterKey, randomBytes(32).toString('base64'), { mode: 0o440 });
    const deployment = findObject('Deployment', 'hallmark-server')
      .object as unknown as V1Deployment;
    const env = containerEnv(containerNamed(deployment.spec!.template.spec!, 'server'), {
      DATABASE_URL: 'set by the stack',
    });
    delete env['DATABASE_URL'];
    delete env['HALLMARK_PUBLIC_URL']; // the Service's name does not resolve here; no control reads it
    stack = await startStack({
      clock,
      env: {
        ...env,
        // Where this machine differs from a pod: a free loopback port, a temp data dir, the
        // Secret's file, 127.0.0.1 among the names the test client connects to, and the
        // archive volume's mount point.
        HALLMARK_LISTEN: '127.0.0.1:0',
        HALLMARK_DATA_DIR: path.join(dir, 'data'),
        HALLMARK_MASTER_KEY: '',
        HALLMARK_MASTER_KEY_FILE: masterKey,
        HALLMARK_SERVER_NAMES: `${env['HALLMARK_SERVER_NAMES']},127.0.0.1`,
        HALLMARK_AUDIT_ARCHIVE_DIR: path.join(dir, 'audit-archive'),
        // docs/install.md: the audit sink to the SIEM (HM-LOG-03).
        HALLMARK_AUDIT_SYSLOG: `tls://127.0.0.1:${rsyslog.port}`,
        HALLMARK_AUDIT_SYSLOG_CA: path.join(dir, 'syslog-ca.pem'),
        HALLMARK_AUDIT_SINK_LAG_ALARM: '5s',
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await rsyslog?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function delivered(): Promise<boolean> {
    const lag = await stack.server.db.query<{ lag: string }>(
      "SELECT (SELECT seq FROM audit_head) - COALESCE((SELECT seq FROM audit_sink_cursors WHERE sink = 'syslog'), 0) AS lag",
    );
    return Number(lag.rows[0]?.lag) === 0;
  }

  async function report(): Promise<ComplianceReport> {
    return complianceReport(stack, {
      manifests: { source: 'deploy/', files: await deployFiles() },
    });
  }

  it('passes every control that does not need an HSM', async () => {
    await report(); // the first rows, then wait for the receiver to confirm them
    await eventually(delivered);
    const result = await report();
    const byStatus = (status: string) =>
      result.controls.filter((c) => c.status === status).map((c) => c.id);
    expect(byStatus('fail').sort()).toEqual([...NEEDS_HSM].sort());
    // The broker is off in deploy/, and the server cannot audit npm packages itself.
    expect(byStatus('not-applicable').sort()).toEqual(['HM-AUTH-05', 'HM-DEP-01']);
    expect(control(result, 'HM-KEY-02').reason).toMatch(/mode 0440/);
    // The retention policy of deploy/server.yaml, enforced by the server it configures.
    expect(control(result, 'HM-LOG-04').reason).toMatch(
      /rows stay 90d in PostgreSQL and 365d in all \(archive \S+audit-archive\)/,
    );
    expect(stack.server.retention).toBeDefined();
    expect(control(result, 'HM-KEY-07').reason).toMatch(
      /the active audit checkpoint key \S+ was activated/,
    );
    // The report is signed by the checkpoint key and verifies against GET /v1/audit/keys.
    const keys = await stack.call('GET', '/v1/audit/keys');
    expect(result.signature?.kid).toBeDefined();
    await expect(
      verifyReport(result, keys.body as unknown as JSONWebKeySet),
    ).resolves.toMatchObject({ kid: result.signature!.kid, alg: 'ES256' });
    // Counted in the key tables: the CA, access-token and JWT authority keys are sealed.
    expect(control(result, 'HM-KEY-08').reason).toMatch(
      /no PKCS#11 token is configured: \d+ private key\(s\) \(ca [1-9]\d*, access-token [1-9]\d*, jwt-authority [1-9]\d*, audit-checkpoint [1-9]\d*\) are sealed/,
    );
    expect(control(result, 'HM-PRIV-03').reason).toMatch(
      /ClusterRole hallmark-attestor grants exactly/,
    );
    expect(control(result, 'HM-LOG-03').reason).toMatch(/1 sink\(s\) within 5s/);
  });

  it('HM-AUTH-04 fails on an admin key 100 days old; hallmark apikey rotate admin makes it pass', async () => {
    const oldKey = (await readFile(stack.server.admin.file, 'utf8')).trim();
    await stack.server.db.query(
      "UPDATE api_keys SET created_at = created_at - interval '100 days' WHERE id = 'admin'",
    );
    const aged = control(await report(), 'HM-AUTH-04');
    expect(aged).toMatchObject({ status: 'fail', reason: expect.stringMatching(/set 100d ago/) });
    expect(aged.remediation).toMatch(/hallmark apikey rotate admin/);

    const out: string[] = [];
    const io: CliIo = {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      env: {
        HALLMARK_SERVER_URL: stack.server.url,
        HALLMARK_SERVER_BUNDLE: stack.server.bundleFile,
        HALLMARK_DATA_DIR: stack.config.dataDir,
      },
      stdin: Readable.from([]),
    };
    expect(await main(['apikey', 'rotate', 'admin'], io)).toBe(0);
    expect(out.join('\n')).toMatch(/the new key is in .*admin\.key/);
    const newKey = (await readFile(stack.server.admin.file, 'utf8')).trim();
    expect(newKey).toMatch(/^hmk_/);
    expect(newKey).not.toBe(oldKey);
    const refused = await stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'admin', api_key: oldKey },
    });
    expect(refused.body.error?.code).toBe('ERR_AUTHN_API_KEY_INVALID');
    await new Promise((r) => setTimeout(r, 1_100)); // tokens issued in the rotation's second are revoked
    expect(control(await report(), 'HM-AUTH-04')).toMatchObject({
      status: 'pass',
      reason: expect.stringMatching(/is \d+s old/),
    });
    const rows = await stack.server.db.query<{ actor: string; target: string }>(
      "SELECT actor, target FROM audit_log WHERE action = 'authn.api_key.rotated'",
    );
    expect(rows.rows).toEqual([{ actor: 'key:admin', target: 'key:admin' }]);
  });

  it('HM-LOG-03 fails when the sink receiver is gone and rows wait longer than the lag alarm', async () => {
    await eventually(delivered);
    await rsyslog.kill();
    await report(); // rows the dead receiver will not confirm
    await new Promise((r) => setTimeout(r, 6_000));
    const result = control(await report(), 'HM-LOG-03');
    expect(result.status).toBe('fail');
    expect(result.reason).toMatch(
      /sink syslog has \d+ undelivered row\(s\), the oldest committed \d+s ago/,
    );
  });

  it('HM-KEY-05 and HM-KEY-06 fail when no replica rotates the signing keys for two days', async () => {
    clock.offset = 2 * DAY + 3_600_000;
    const result = await report();
    expect(control(result, 'HM-KEY-05')).toMatchObject({
      status: 'fail',
      reason: expect.stringMatching(/access-token signing key .* against a rotation period of 1d/),
    });
    expect(control(result, 'HM-KEY-06')).toMatchObject({
      status: 'fail',
      reason: expect.stringMatching(/JWT-SVID authority key .* against a rotation period of 1d/),
    });
  });
});
