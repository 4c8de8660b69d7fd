// End to end: `hallmark server` as npm start runs it, `hallmark compliance` against it, and verify.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildReport,
  canonicalReport,
  evaluateControls,
  signReport,
  type ComplianceReport,
} from '../../src/compliance/index.js';
import { runCli, startCli, tempDataDir, type CliProcess } from '../helpers/cli-process.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { compliantSnapshot } from '../compliance/snapshot-fixture.js';
import { REPO_ROOT } from '../deploy/deploy-files.js';

describe('hallmark compliance against the default installation', () => {
  let dataDir: string;
  let out: string;
  let databaseUrl: string;
  let server: CliProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = await tempDataDir();
    out = await mkdtemp(path.join(os.tmpdir(), 'hallmark-compliance-out-'));
    databaseUrl = await createEmptyDatabase();
    // npm start's defaults: a master key generated into the data directory.
    server = startCli(['server'], {
      HALLMARK_DATA_DIR: dataDir,
      HALLMARK_LISTEN: '127.0.0.1:0',
      DATABASE_URL: databaseUrl,
    });
    const [, url] = await server.waitFor(/listening on (https:\/\/127\.0\.0\.1:\d+)/);
    env = { HALLMARK_SERVER_URL: url as string, HALLMARK_DATA_DIR: dataDir };
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  });

  it('reports honestly: exit 1, the generated master key fails with a remediation, JSON, Markdown and HTML written', async () => {
    const run = await runCli(
      ['compliance', '--out', out, '--manifests', path.join(REPO_ROOT, 'deploy')],
      env,
      180_000,
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    for (const ext of ['json', 'md', 'html'])
      expect(run.stderr).toContain(path.join(out, `compliance-report.${ext}`));
    const report = JSON.parse(
      await readFile(path.join(out, 'compliance-report.json'), 'utf8'),
    ) as ComplianceReport;
    const key = report.controls.find((c) => c.id === 'HM-KEY-01')!;
    expect(key.status).toBe('fail');
    expect(key.reason).toMatch(/generated into the data directory/);
    expect(key.evidence['file']).toBe(path.join(dataDir, 'master.key'));
    expect(key.remediation).toMatch(/HALLMARK_MASTER_KEY_FILE/);
    expect(report.controls.find((c) => c.id === 'HM-PRIV-03')?.status).toBe('pass');
    // npm audit ran on this checkout's lockfile: a verdict either way, with the lockfile named.
    const lock = createHash('sha256')
      .update(await readFile(path.join(REPO_ROOT, 'package-lock.json')))
      .digest('hex');
    expect(report.inputs.dependencies?.lockfileSha256).toBe(lock);
    expect(report.summary).toMatchObject({ compliant: false, total: report.controls.length });

    const md = await readFile(path.join(out, 'compliance-report.md'), 'utf8');
    const html = await readFile(path.join(out, 'compliance-report.html'), 'utf8');
    for (const c of report.controls) {
      expect(md).toContain(`## ${c.id} `);
      expect(html).toContain(`id="${c.id}"`);
    }
    // The run's audit row carries the digest the command printed.
    const digest = /report sha256 ([0-9a-f]{64})/.exec(run.stderr)?.[1];
    expect(digest).toBe(createHash('sha256').update(canonicalReport(report)).digest('hex'));
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const rows = await client.query<{ target: string }>(
        "SELECT target FROM audit_log WHERE action = 'compliance.report'",
      );
      expect(rows.rows.map((r) => r.target.split(' ')[0])).toContain(`sha256=${digest}`);
    } finally {
      await client.end();
    }
  });

  it('prints Markdown by default and JSON with --json; the signed report verifies against the server, and only there', async () => {
    const markdown = await runCli(
      ['compliance', '--no-dependency-audit', '--manifests', path.join(REPO_ROOT, 'deploy')],
      env,
    );
    expect(markdown.code).toBe(1);
    expect(markdown.stdout).toMatch(/^# Hallmark compliance report/);
    expect(markdown.stdout).toMatch(/\| HM-KEY-01 \| FAIL \|/);
    const json = await runCli(['compliance', '--json', '--no-dependency-audit'], env);
    const report = JSON.parse(json.stdout) as ComplianceReport;
    expect(report.controls.find((c) => c.id === 'HM-DEP-01')?.reason).toMatch(
      /no dependency audit was supplied/,
    );
    const file = path.join(out, 'plain.json');
    await writeFile(file, json.stdout);
    // Signed by the audit checkpoint key: verify fetches GET /v1/audit/keys from the server.
    expect(report.signature).toMatchObject({ alg: 'ES256' });
    const verified = await runCli(['compliance', 'verify', file], env);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(
      new RegExp(`signature valid: key ${report.signature!.kid} \\(ES256\\)`),
    );
    await writeFile(path.join(out, 'keys.json'), '{"keys": []}');
    const verify = await runCli(
      ['compliance', 'verify', file, '--jwks', path.join(out, 'keys.json')],
      env,
    );
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(/unknown-key/);
    const { signature: _signature, ...unsigned } = report;
    await writeFile(path.join(out, 'unsigned.json'), JSON.stringify(unsigned));
    const bare = await runCli(['compliance', 'verify', path.join(out, 'unsigned.json')], env);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/unsigned/);
  });

  it('refuses bad usage with exit 2', async () => {
    expect((await runCli(['compliance', '--manifests', path.join(out, 'missing')], env)).code).toBe(
      2,
    );
    expect((await runCli(['compliance', 'verify'], env)).code).toBe(2);
    expect((await runCli(['apikey', 'rotate', 'someone'], env)).code).toBe(2);
  });
});

describe('hallmark compliance verify', () => {
  it('accepts a report signed by a key of the JWKS and refuses it once edited', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-verify-'));
    try {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const kid = 'audit-checkpoint-1';
      await writeFile(
        path.join(dir, 'keys.json'),
        JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256' }] }),
      );
      const snapshot = compliantSnapshot();
      const signed = await signReport(buildReport(snapshot, evaluateControls(snapshot)), {
        signCompact: (payload) =>
          new CompactSign(payload).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey),
      });
      await writeFile(path.join(dir, 'report.json'), JSON.stringify(signed, null, 2));
      const ok = await runCli([
        'compliance',
        'verify',
        path.join(dir, 'report.json'),
        '--jwks',
        path.join(dir, 'keys.json'),
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/signature valid: key audit-checkpoint-1 \(ES256\)/);
      const edited = {
        ...signed,
        controls: signed.controls.map((c, i) =>
          i === 0 ? { ...c, status: 'pass', reason: 'edited' } : c,
        ),
      };
      await writeFile(path.join(dir, 'edited.json'), JSON.stringify(edited));
      const bad = await runCli([
        'compliance',
        'verify',
        path.join(dir, 'edited.json'),
        '--jwks',
        path.join(dir, 'keys.json'),
      ]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/bad-signature/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
