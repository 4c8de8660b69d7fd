// A real server put into non-compliant states: each control fails with evidence naming the cause.
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComplianceReport } from '../../src/compliance/index.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';
import { createSoftHsmToken, softHsm, type SoftHsmToken } from '../hsm/softhsm.js';
import { complianceReport, control, deployFiles } from './compliance-fixture.js';

/** Pre-confinement document: a registration outside its namespace, "*" to a workload, a grant to every workload. */
const WIDE_POLICY = `workloads:
  - namespace: ops
    spiffeId: /ops/{serviceAccount}
grants:
  - to: spiffe://hallmark.local/ns/demo/sa/app
    read: ["*"]
  - to: spiffe://hallmark.local/*
    read: [shared/motd]
`;

describe('a non-compliant installation', () => {
  let dir: string;
  let stack: HallmarkStack;
  let report: ComplianceReport;
  let tamperedSeq: number;
  let token: SoftHsmToken | undefined;

  beforeAll(async () => {
    // A real SoftHSM2 token in the configuration: the server generates every key in it, so
    // HM-KEY-08 is the one key control this installation passes, counted from the key tables.
    token = softHsm.available ? await createSoftHsmToken('hallmark-compliance') : undefined;
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-noncompliant-'));
    // The operator's root: RSA-2048, self-signed with SHA-1, five days from expiry.
    const cert = path.join(dir, 'upstream.pem');
    const key = path.join(dir, 'upstream.key');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-nodes',
        '-newkey',
        'rsa:2048',
        '-sha1',
        '-days',
        '5',
        '-subj',
        '/CN=Corp Root SHA1',
        '-keyout',
        key,
        '-out',
        cert,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      { stdio: 'ignore' },
    );
    stack = await startStack({
      // No checkpointer runs: rows older than two 1 s intervals and two ticks stay unsigned.
      checkpointTicker: false,
      env: {
        HALLMARK_AUDIT_CHECKPOINT_INTERVAL: '1s',
        // A retention policy that archives after a month and keeps segments half a year.
        HALLMARK_AUDIT_ARCHIVE_DIR: path.join(dir, 'audit-archive'),
        HALLMARK_AUDIT_RETENTION_ONLINE: '30d',
        HALLMARK_AUDIT_ARCHIVE_RETENTION: '180d',
        HALLMARK_MASTER_KEY: '', // generated into the data directory
        HALLMARK_CA_TTL: '730d',
        HALLMARK_TOKEN_TTL: '2h',
        HALLMARK_JWT_SVID_TTL: '1h',
        HALLMARK_BROKER_USERNAME: 'osb',
        HALLMARK_BROKER_PASSWORD: 'aaaaaaaaaaaaaaaa',
        HALLMARK_TLS_CIPHERS: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA',
        HALLMARK_UPSTREAM_CA_CERT: cert,
        HALLMARK_UPSTREAM_CA_KEY: key,
        ...(token === undefined
          ? {}
          : {
              HALLMARK_PKCS11_MODULE: token.modulePath,
              HALLMARK_PKCS11_TOKEN: token.label,
              HALLMARK_PKCS11_PIN_FILE: token.pinFile,
            }),
      },
    });
    const db = stack.server.db;
    await chmod(path.join(stack.config.dataDir, 'master.key'), 0o644);
    // A document stored by a release before identity confinement, as an upgrade finds it.
    await db.query(
      "INSERT INTO policies (version, document, sha256, loaded_at, loaded_by) VALUES (1, $1, 'old', now(), 'key:admin')",
      [WIDE_POLICY],
    );
    await stack.server.policy.refresh();
    // An X509-SVID on record with a 48-hour lifetime.
    await db.query(
      `INSERT INTO issued_certificates (serial, spiffe_id, ca_id, not_after, public_key_fingerprint, issued_at)
       SELECT 'abcdef0123', 'spiffe://hallmark.local/ns/demo/sa/app', id, now() + interval '47 hours', 'fp', now() - interval '1 hour'
         FROM ca_authorities WHERE status = 'active'`,
    );
    const files = (await deployFiles()).map((file) => ({
      ...file,
      content:
        file.path === 'rbac.yaml'
          ? file.content.replace(
              "resources: ['pods']\n    verbs: ['get']",
              "resources: ['pods']\n    verbs: ['get', 'list']",
            )
          : file.path === 'server.yaml'
            ? file.content.replace(
                '        runAsNonRoot: true\n        runAsUser: 10001\n        runAsGroup: 10001\n        fsGroup',
                '        runAsUser: 10001\n        runAsGroup: 10001\n        fsGroup',
              )
            : file.content,
    }));
    await complianceReport(stack); // rows to tamper with
    const row = await db.query<{ seq: string }>('SELECT min(seq) + 1 AS seq FROM audit_log');
    tamperedSeq = Number(row.rows[0]!.seq);
    await db.query("UPDATE audit_log SET target = 'forged' WHERE seq = $1", [tamperedSeq]);
    const first = await db.query<{ time: Date }>('SELECT time FROM audit_log ORDER BY seq LIMIT 1');
    const wait = first.rows[0]!.time.getTime() + 4_500 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    report = await complianceReport(stack, { manifests: { source: 'deploy-edited/', files } });
  });
  afterAll(async () => {
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
    await token?.remove();
  });

  const expectFail = (id: string, cause: RegExp): void => {
    const result = control(report, id);
    expect(result.status, `${id}: ${result.reason}`).toBe('fail');
    expect(result.reason).toMatch(cause);
    expect(result.remediation.length).toBeGreaterThan(20);
  };

  it('HM-KEY-01: the generated master key in the data directory', () => {
    expectFail('HM-KEY-01', /generated into the data directory \(.*master\.key\)/);
  });
  it('HM-KEY-02: a master key file readable by everyone', () => {
    expectFail('HM-KEY-02', /readable by every user \(mode 0644\)/);
  });
  it('HM-KEY-03: an upstream root signed with SHA-1', () => {
    expectFail('HM-KEY-03', /upstream\[0\] CN=Corp Root SHA1: signed with sha1WithRSAEncryption/);
  });
  it('HM-KEY-04: HALLMARK_CA_TTL=730d', () => {
    expectFail('HM-KEY-04', /HALLMARK_CA_TTL is 730d, above the 365d limit/);
  });
  it.skipIf(!softHsm.available)(
    'HM-KEY-08 passes with a PKCS#11 token: no private key row is sealed in PostgreSQL',
    () => {
      const result = control(report, 'HM-KEY-08');
      expect(result.status, result.reason).toBe('pass');
      expect(result.reason).toMatch(/held in the PKCS#11 token "hallmark-compliance"/);
      expect(result.evidence).toMatchObject({
        pkcs11: true,
        token: 'hallmark-compliance',
        sealedInPostgres: { ca: 0, 'access-token': 0, 'jwt-authority': 0, 'audit-checkpoint': 0 },
      });
    },
  );
  it('HM-LOG-02: rows that no checkpoint covers, older than two intervals', () => {
    expectFail(
      'HM-LOG-02',
      /no audit checkpoint has been signed, and row 1 was committed \d+s ago/,
    );
  });
  it('HM-AUTH-01: HALLMARK_TOKEN_TTL=2h', () => {
    expectFail('HM-AUTH-01', /HALLMARK_TOKEN_TTL is 2h, above 15m/);
  });
  it('HM-AUTH-02: an X509-SVID on record that lives 48 hours', () => {
    expectFail(
      'HM-AUTH-02',
      /X509-SVID abcdef0123 for spiffe:\/\/hallmark\.local\/ns\/demo\/sa\/app, .* lives 2d/,
    );
  });
  it('HM-AUTH-03: HALLMARK_JWT_SVID_TTL=1h', () => {
    expectFail('HM-AUTH-03', /HALLMARK_JWT_SVID_TTL is 1h/);
  });
  it('HM-AUTH-05: a broker password of one repeated letter, described without its value', () => {
    expectFail('HM-AUTH-05', /lacks letters or digits, it has only 1 distinct characters/);
    expect(JSON.stringify(report)).not.toContain('aaaaaaaaaaaaaaaa');
  });
  it('HM-PRIV-01: a policy granting "*" and a grant to every workload', () => {
    expectFail(
      'HM-PRIV-01',
      /spiffe:\/\/hallmark\.local\/\* \(every workload\) is granted secrets; spiffe:\/\/hallmark\.local\/ns\/demo\/sa\/app may read "\*"|may read "\*".*every workload/,
    );
  });
  it('HM-PRIV-02: a stored registration rendering outside its namespace', () => {
    expectFail('HM-PRIV-02', /workloads\[0\] \(ops\) \/ops\/\{serviceAccount\}/);
  });
  it('HM-PRIV-03: a ClusterRole with list pods', () => {
    expectFail(
      'HM-PRIV-03',
      /hallmark-attestor grants more or other than attestation needs: rule 1: verbs is \["get","list"\]/,
    );
    expect(report.inputs.manifests?.source).toBe('deploy-edited/');
  });
  it('HM-PRIV-04: a server pod that may run as root', () => {
    expectFail(
      'HM-PRIV-04',
      /Deployment hallmark\/hallmark-server: pod: securityContext\.runAsNonRoot must be true/,
    );
  });
  it('HM-LOG-01: a tampered audit row, named by seq', () => {
    expectFail(
      'HM-LOG-01',
      new RegExp(`broken at seq ${tamperedSeq}: row content does not match its hash`),
    );
  });
  it('HM-LOG-04: rows archived after 30 days', () => {
    expectFail('HM-LOG-04', /rows stay in PostgreSQL only 30d, under 90d/);
  });
  it('HM-LOG-03: no audit sink', () => {
    expectFail('HM-LOG-03', /no audit sink is configured/);
  });
  it('HM-TLS-01: a CBC suite with a SHA-1 MAC in HALLMARK_TLS_CIPHERS, which the listener really offers', async () => {
    expectFail('HM-TLS-01', /ECDHE-ECDSA-AES128-SHA offers CBC mode with a SHA-1 MAC/);
    const tls = await import('node:tls');
    const cipher = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect(
        {
          host: '127.0.0.1',
          port: stack.server.port,
          maxVersion: 'TLSv1.2',
          ciphers: 'ECDHE-ECDSA-AES128-SHA',
          rejectUnauthorized: false,
        },
        () => {
          resolve(socket.getCipher().name);
          socket.end();
        },
      );
      socket.on('error', reject);
    });
    expect(cipher).toBe('ECDHE-ECDSA-AES128-SHA');
  });
  it('HM-TLS-02: an upstream root that expires within 7 days', () => {
    expectFail('HM-TLS-02', /upstream certificate CN=Corp Root SHA1 expires .* within 7d/);
  });
  it('carries no secret: not the master key, the admin API key, the broker password or the PIN', async () => {
    const secrets = [
      (await readFile(path.join(stack.config.dataDir, 'master.key'), 'utf8')).trim(),
      (await readFile(stack.server.admin.file, 'utf8')).trim(),
      'aaaaaaaaaaaaaaaa',
      ...(token === undefined ? [] : [(await readFile(token.pinFile, 'utf8')).trim()]),
    ];
    const text = JSON.stringify(report);
    const rows = JSON.stringify(
      (await stack.server.db.query("SELECT * FROM audit_log WHERE action = 'compliance.report'"))
        .rows,
    );
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(13);
      expect(text).not.toContain(secret);
      expect(rows).not.toContain(secret);
    }
  });
  it('writes its audit row with the report digest', async () => {
    const rows = await stack.server.db.query<{ target: string; actor: string }>(
      "SELECT target, actor FROM audit_log WHERE action = 'compliance.report' ORDER BY seq",
    );
    expect(rows.rows.at(-1)?.target).toMatch(
      /^sha256=[0-9a-f]{64} pass=\d+ fail=\d+ not-applicable=\d+$/,
    );
    expect(rows.rows.at(-1)?.actor).toBe('key:admin');
  });
});
