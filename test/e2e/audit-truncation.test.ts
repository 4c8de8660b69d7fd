// The truncation attack of the issue, end to end: a real server streams rows and signed
// checkpoints to rsyslog over TLS, the tail is deleted in SQL and the head moved back, and
// `hallmark audit verify --checkpoints` over what rsyslog wrote names the rows missing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/index.js';
import { readReceivedCheckpoints } from '../../src/checkpoint/index.js';
import { runCli } from '../helpers/cli-process.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';
import { RSYSLOG_SKIP_REASON, RSYSLOG_TESTS, startRsyslog } from '../helpers/rsyslog-receiver.js';
import { eventually, testPki } from '../sink/sink-fixtures.js';

/** The seqs of the checkpoints in rsyslog's file (their JWS payloads, unverified here). */
function checkpointSeqs(lines: readonly string[]): number[] {
  return readReceivedCheckpoints(lines.join('\n')).checkpoints.map(
    (c) => JSON.parse(Buffer.from(c.jws.split('.')[1] as string, 'base64url').toString()).seq,
  );
}

// The sink's server certificate, issued by an async engine; made once per file.
const pki = await testPki();

describe.skipIf(!RSYSLOG_TESTS)('the truncation attack against a running server', () => {
  let dir: string;
  let stack: HallmarkStack | undefined;

  beforeAll(async () => {
    if (!RSYSLOG_TESTS) console.warn(RSYSLOG_SKIP_REASON);
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-truncation-'));
    await writeFile(path.join(dir, 'ca.pem'), pki.ca);
  });
  afterAll(async () => {
    await stack?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('passes verify on the intact database and fails it, naming the missing rows, after the attack', async () => {
    const rsyslog = await startRsyslog({
      protocol: 'tls',
      tls: { ...pki.server, ca: pki.ca, requireClientCert: false },
    });
    try {
      stack = await startStack({
        env: {
          HALLMARK_AUDIT_SYSLOG: `tls://127.0.0.1:${rsyslog.port}`,
          HALLMARK_AUDIT_SYSLOG_CA: path.join(dir, 'ca.pem'),
          HALLMARK_AUDIT_CHECKPOINT_INTERVAL: '1s',
        },
      });
      const server = stack.server;
      const key = server.admin.created ? server.admin.key : '';
      const head = async (): Promise<{ seq: number; hash: string }> => {
        const row = await server.db.query<{ seq: string; hash: string }>(
          'SELECT seq, hash FROM audit_head',
        );
        return { seq: Number(row.rows[0]?.seq), hash: row.rows[0]?.hash as string };
      };
      // Three bursts of logins, each closed by a checkpoint the receiver got.
      for (let burst = 0; burst < 3; burst++) {
        for (let i = 0; i < 5; i++) {
          const login = await stack.call('POST', '/v1/authn/apikey', {
            body: { id: 'admin', api_key: key },
          });
          expect(login.status).toBe(200);
        }
        const target = (await head()).seq;
        await eventually(async () => checkpointSeqs(await rsyslog.lines()).includes(target));
      }
      const final = await head();
      const url = stack.databaseUrl;
      await stack.close();
      stack = undefined;
      const received = path.join(dir, 'received.log');
      await writeFile(received, (await rsyslog.lines()).join('\n'));

      const intact = await runCli(['audit', 'verify', '--checkpoints', received], {
        DATABASE_URL: url,
      });
      expect(intact.stderr).toBe('');
      expect(intact.code).toBe(0);
      expect(intact.stdout).toMatch(/received checkpoints: (\d+), \1 found in the chain/);

      // The attack: delete the tail after K and set the head to row K (both already stored).
      const k = final.seq - 12;
      const db = new Database(url, { max: 1 });
      try {
        await db.query('DELETE FROM audit_log WHERE seq > $1', [k]);
        await db.query(
          'UPDATE audit_head SET seq = $1, hash = (SELECT hash FROM audit_log WHERE seq = $1)',
          [k],
        );
        // The stored checkpoints after K still give it away...
        const stored = await runCli(['audit', 'verify'], { DATABASE_URL: url });
        expect(stored.code).toBe(1);
        expect(stored.stderr).toContain('ERR_AUDIT_CHECKPOINT_MISSING');
        // ...so a thorough attacker deletes them too: the database alone now looks intact.
        await db.query('DELETE FROM audit_checkpoints WHERE seq > $1', [k]);
      } finally {
        await db.close();
      }
      const alone = await runCli(['audit', 'verify'], { DATABASE_URL: url });
      expect(alone.code).toBe(0);

      const attacked = await runCli(['audit', 'verify', '--checkpoints', received], {
        DATABASE_URL: url,
      });
      expect(attacked.code).toBe(1);
      expect(attacked.stderr).toContain(
        `ERR_AUDIT_CHECKPOINT_MISSING: checkpoint at seq ${final.seq} not in the database: rows ${k + 1}–${final.seq} missing`,
      );
    } finally {
      await rsyslog.close();
    }
  });
});
