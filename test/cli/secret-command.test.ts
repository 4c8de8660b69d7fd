// `hallmark secret set|get` in-process against a real HTTPS server with the secret routes.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, UsageError, type CliIo } from '../../src/cli/command.js';
import { secretCommand } from '../../src/cli/secret-command.js';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import type { HallmarkApp } from '../../src/http/index.js';
import { parseSecretPath } from '../../src/secrets/index.js';
import { apiDoubles } from '../client/api-doubles.js';
import { buildSecretApp } from '../secrets/helpers/secret-test-app.js';
import { makeTestTls } from '../secrets/helpers/test-tls.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { MemorySecretStore } from '../doubles/memory-secret-store.js';

interface Captured {
  io: CliIo;
  out: string[];
  err: string[];
}

describe('hallmark secret', () => {
  let app: HallmarkApp;
  let dataDir: string;
  let url: string;
  let store: MemorySecretStore;
  const audit = new MemoryAuditLog(systemClock);

  /** CliIo over the test's data dir; `stdin` is the given text. */
  const capture = (stdin = '', env: Record<string, string> = {}): Captured => {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: {
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        env: { HALLMARK_SERVER_URL: url, HALLMARK_DATA_DIR: dataDir, ...env },
        stdin: Readable.from([Buffer.from(stdin, 'utf8')]),
      },
    };
  };

  beforeAll(async () => {
    const tls = makeTestTls();
    store = new MemorySecretStore({ master: new MasterKey(randomBytes(32)), clock: systemClock });
    // The API-key login is the authentication module's; its double trades the test admin key
    // for the bearer string the test authenticator knows as the admin.
    const seen = { last: undefined, releaseHanging: () => undefined };
    app = await buildSecretApp({ tls, store, audit, extraRoutes: [apiDoubles(seen, tls.caPem)] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-secret-cli-'));
    await writeFile(path.join(dataDir, 'bundle.pem'), tls.caPem);
    await writeFile(path.join(dataDir, 'admin.key'), 'hmk_test-admin-key\n', { mode: 0o600 });
  });

  afterAll(async () => {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('sets a value from stdin (one trailing newline removed) and gets it back', async () => {
    const set = capture('first value\n');
    expect(await secretCommand.run(['set', 'apps/db-password'], set.io)).toBe(EXIT.ok);
    expect(set.out).toEqual(['apps/db-password: version 1']);
    expect((await store.get(parseSecretPath('apps/db-password'))).value).toBe('first value');
    expect(audit.records.at(-1)).toMatchObject({
      actor: 'key:admin',
      action: 'secret.write',
      target: 'apps/db-password@v1',
    });
    const get = capture();
    expect(await secretCommand.run(['get', 'apps/db-password'], get.io)).toBe(EXIT.ok);
    expect(get.out).toEqual(['first value']);
  });

  it('sets a value from a file verbatim and gets an old version with --version', async () => {
    const file = path.join(dataDir, 'value.pem');
    await writeFile(file, '-----BEGIN X-----\nAAAA\n-----END X-----\n');
    const set = capture();
    expect(await secretCommand.run(['set', 'apps/db-password', '--from-file', file], set.io)).toBe(
      EXIT.ok,
    );
    expect(set.out).toEqual(['apps/db-password: version 2']);
    expect((await store.get(parseSecretPath('apps/db-password'))).value).toBe(
      '-----BEGIN X-----\nAAAA\n-----END X-----\n',
    );
    const old = capture();
    await secretCommand.run(['get', 'apps/db-password', '--version', '1'], old.io);
    expect(old.out).toEqual(['first value']);
  });

  it('never takes the value from the command line', async () => {
    await expect(secretCommand.run(['set', 'apps/x', 'the-value'], capture().io)).rejects.toThrow(
      /never from the command line/,
    );
    expect(await store.count()).toMatchObject({ paths: 1 });
  });

  it('refuses bad usage', async () => {
    for (const args of [
      [],
      ['list'],
      ['get'],
      ['get', 'apps/x', '--version', '0'],
      ['get', 'apps/x', '--version', 'latest'],
      ['set', 'apps/x', '--version', '2'],
      ['get', 'apps/x', '--from-file', 'f'],
      ['get', 'apps/x', '--api-key', 'k'],
    ]) {
      await expect(secretCommand.run(args, capture().io)).rejects.toBeInstanceOf(UsageError);
    }
  });

  it("prints the server's code for a refusal and exits 1", async () => {
    const missing = capture();
    expect(await secretCommand.run(['get', 'apps/none'], missing.io)).toBe(EXIT.failure);
    expect(missing.err).toEqual([
      expect.stringMatching(
        /^hallmark secret: ERR_SECRET_NOT_FOUND: secret not found: "apps\/none"$/,
      ),
    ]);
    const bad = capture('v');
    expect(await secretCommand.run(['set', 'apps/../x'], bad.io)).toBe(EXIT.failure);
    expect(bad.err[0]).toMatch(/ERR_SECRET_BAD_PATH/);
  });

  it('uses HALLMARK_ADMIN_KEY over the key file, and reports a wrong key by code', async () => {
    const wrong = capture('', { HALLMARK_ADMIN_KEY: 'hmk_wrong' });
    expect(await secretCommand.run(['get', 'apps/db-password'], wrong.io)).toBe(EXIT.failure);
    expect(wrong.err[0]).toMatch(/^hallmark secret: ERR_AUTHN_API_KEY_INVALID: /);
  });

  it('names the missing configuration', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'hallmark-secret-cli-empty-'));
    try {
      const noBundle = capture('', { HALLMARK_DATA_DIR: empty });
      expect(await secretCommand.run(['get', 'apps/x'], noBundle.io)).toBe(EXIT.usage);
      expect(noBundle.err[0]).toMatch(/HALLMARK_SERVER_BUNDLE: cannot read .*bundle\.pem/);
      const noKey = capture('', {
        HALLMARK_DATA_DIR: empty,
        HALLMARK_SERVER_BUNDLE: path.join(dataDir, 'bundle.pem'),
      });
      expect(await secretCommand.run(['get', 'apps/x'], noKey.io)).toBe(EXIT.usage);
      expect(noKey.err[0]).toMatch(/HALLMARK_ADMIN_KEY: not set, and .*admin\.key cannot be read/);
      const plain = capture('', { HALLMARK_SERVER_URL: 'http://127.0.0.1:1' });
      expect(await secretCommand.run(['get', 'apps/x'], plain.io)).toBe(EXIT.usage);
      expect(plain.err[0]).toMatch(/HALLMARK_SERVER_URL: expected an https/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('refuses input that is not UTF-8 without contacting the server', async () => {
    const file = path.join(dataDir, 'latin1.bin');
    await writeFile(file, Buffer.from([0x70, 0xe4, 0x73, 0x73]));
    const before = audit.records.length;
    await expect(
      secretCommand.run(['set', 'apps/x', '--from-file', file], capture().io),
    ).rejects.toThrow(/not valid UTF-8/);
    expect(audit.records.length).toBe(before);
  });
});
