// HM-KEY-01 and HM-KEY-02 over real files: symlinks are followed before "inside the data dir" is judged.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROLS, masterKeyFacts, type Control } from '../../src/compliance/index.js';
import { loadServerConfig } from '../../src/config/index.js';
import { compliantSnapshot } from './snapshot-fixture.js';

async function verdict(id: string, env: Record<string, string>) {
  const config = loadServerConfig({ env, flags: {} });
  const masterKey = await masterKeyFacts(config);
  const control = CONTROLS.find((c) => c.id === id) as Control;
  return control.evaluate({ ...compliantSnapshot(), masterKey });
}

describe('master key facts from the file system', () => {
  let dir: string;
  let dataDir: string;
  let inside: string;
  let outside: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-master-key-'));
    dataDir = path.join(dir, 'data');
    await mkdir(dataDir);
    await mkdir(path.join(dir, 'secrets'));
    inside = path.join(dataDir, 'master.key');
    outside = path.join(dir, 'secrets', 'master.key');
    const key = randomBytes(32).toString('base64');
    await writeFile(inside, key, { mode: 0o600 });
    await writeFile(outside, key, { mode: 0o640 });
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('a key file outside the data directory passes, with its mode', async () => {
    const env = { HALLMARK_DATA_DIR: dataDir, HALLMARK_MASTER_KEY_FILE: outside };
    expect(await verdict('HM-KEY-01', env)).toMatchObject({ status: 'pass' });
    expect(await verdict('HM-KEY-02', env)).toMatchObject({
      status: 'pass',
      evidence: { mode: '0640' },
    });
  });

  it('a link outside the data directory to the key inside it fails, naming both', async () => {
    const link = path.join(dir, 'secrets', 'linked.key');
    await symlink(inside, link);
    const result = await verdict('HM-KEY-01', {
      HALLMARK_DATA_DIR: dataDir,
      HALLMARK_MASTER_KEY_FILE: link,
    });
    expect(result.status).toBe('fail');
    expect(result.reason).toContain(`${link} (${inside}) is inside the data directory`);
    expect(result.evidence['resolvedFile']).toBe(inside);
  });

  it('a data directory reached through a link is still the data directory', async () => {
    const linkedData = path.join(dir, 'data-link');
    await symlink(dataDir, linkedData);
    const result = await verdict('HM-KEY-01', {
      HALLMARK_DATA_DIR: linkedData,
      HALLMARK_MASTER_KEY_FILE: inside,
    });
    expect(result.status).toBe('fail');
    expect(result.reason).toMatch(/is inside the data directory/);
  });
});
