// Log hygiene: a full run (see full-run.ts) logged at trace level by the server and the sidecar,
// then searched for every credential that passed through it, in every encoding.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarHandle } from '../../sidecar/index.js';
import { CredentialList } from './credential-list.js';
import { BROKER_PASSWORD, BROKER_USER, runFullStory } from './full-run.js';
import { WINDOW, findLeaks } from './leak-detector.js';
import { MemoryLog, teeProcessOutput } from './log-capture.js';
import { startLoggedStack, type LoggedStack } from './logged-stack.js';

describe('log hygiene: no credential reaches any log', () => {
  const credentials = new CredentialList();
  const sidecarLog = new MemoryLog();
  const processOutput = new MemoryLog();
  let stack: LoggedStack | undefined;
  let sidecar: SidecarHandle | undefined;
  let dir: string | undefined;
  let restoreOutput: () => void = () => undefined;
  let auditTable = '';

  beforeAll(async () => {
    restoreOutput = teeProcessOutput(processOutput);
    stack = await startLoggedStack({
      HALLMARK_BROKER_USERNAME: BROKER_USER,
      HALLMARK_BROKER_PASSWORD: BROKER_PASSWORD,
    });
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-hygiene-'));
    credentials.add('admin API key', stack.adminKey);
    credentials.add('master key', stack.masterKey);
    credentials.add('database password', stack.databasePassword);
    credentials.add('broker password', BROKER_PASSWORD);
    sidecar = await runFullStory({ stack, credentials, dir, sidecarLog });
  });

  /** Stops the sidecar and the server once: what they log while stopping belongs to the run. */
  let stopped: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopped ??= (async () => {
      await sidecar?.stop();
      // The audit log is a log too: its rows, as stored, join the captured text.
      await stack?.server.audit.settle();
      const rows = await stack?.server.db.query<{ row: string }>(
        'SELECT row_to_json(a)::text AS row FROM audit_log a ORDER BY seq',
      );
      auditTable = rows?.rows.map((r) => r.row).join('\n') ?? '';
      await stack?.close();
      restoreOutput();
    })());

  afterAll(async () => {
    await stopAll();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function everything(): Promise<string> {
    await stopAll();
    const serverLog = stack?.serverLog.text() ?? '';
    return [serverLog, sidecarLog.text(), processOutput.text(), auditTable].join('\n');
  }

  it('captured a real run: request logs, audit lines, refusals and the sidecar', async () => {
    await everything();
    const server = stack?.serverLog.text() ?? '';
    expect(stack?.serverLog.lines.length).toBeGreaterThan(100);
    for (const route of [
      '/v1/authn/apikey',
      '/v1/secrets/batch',
      '/v1/svid/x509',
      '/v1/svid/jwt',
      '/v2/catalog',
    ]) {
      expect(server).toContain(route);
    }
    expect(server).toContain('"msg":"audit"');
    expect(server).toContain('request refused');
    expect(sidecarLog.text()).toContain('sidecar ready');
    expect(auditTable).toContain('secret.read');
  });

  it('finds every planted credential form, and pieces of them (the detector works)', () => {
    for (const credential of credentials.all) {
      const { value } = credential;
      const planted =
        typeof value === 'string'
          ? `x${Buffer.from(`prefix ${value}`).toString('base64')}x`
          : `x${Buffer.concat([Buffer.from([1]), value]).toString('base64url')}x`;
      expect(findLeaks(planted, [credential]), credential.label).not.toEqual([]);
      if (credential.partial && typeof value === 'string' && value.length >= WINDOW * 2) {
        const piece = value.slice(3, 3 + WINDOW + WINDOW / 2);
        expect(findLeaks(`detail: "${piece}…"`, [credential]), credential.label).not.toEqual([]);
      }
    }
  });

  it('contains no private key, secret value, API key, password or token in any encoding', async () => {
    const text = await everything();
    // The label alone may be named (e.g. "unexpected PEM label PRIVATE KEY"); armour may not.
    const armour = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.exec(text)?.[0] ?? null;
    expect({ armour, leaks: findLeaks(text, credentials.all) }).toEqual({
      armour: null,
      leaks: [],
    });
  });
});
