import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CREDENTIAL_FILE_MODES, CredentialDirectory } from '../../sidecar/index.js';
import { removeFileDurably, writeFileAtomic, writeFilesAtomic } from '../../src/file/index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-atomic-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const modeOf = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;

/** Content whose every version is self-checking: header, filler of a known size, trailer. */
function version(n: number): string {
  const size = 1000 + ((n * 7919) % 200_000);
  return `begin ${n} ${size}\n${'x'.repeat(size)}\nend ${n}\n`;
}

// Runs in a worker thread so reads really race the writes (the fs calls of one event loop
// would otherwise interleave only at await points). Polls every millisecond (~1,000/s).
const READER = `
const { readFileSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const stopFlag = new Int32Array(workerData.stop);
let reads = 0, bad = 0, versions = new Set(), firstBad = '';
while (Atomics.load(stopFlag, 0) === 0) {
  let text;
  try { text = readFileSync(workerData.file, 'utf8'); } catch (err) { bad++; firstBad ||= String(err.code); continue; }
  reads++;
  const m = /^begin (\\d+) (\\d+)\\n(x*)\\nend (\\d+)\\n$/.exec(text);
  if (!m || m[1] !== m[4] || Number(m[2]) !== m[3].length) { bad++; firstBad ||= 'partial:' + text.length; }
  else versions.add(m[1]);
  Atomics.wait(sleeper, 0, 0, 1);
}
parentPort.postMessage({ reads, bad, versions: versions.size, firstBad });
`;

describe('writeFilesAtomic', () => {
  it('sets exact modes whatever the umask: key 0600, token 0640', async () => {
    const previous = process.umask(0o077);
    try {
      const files = new CredentialDirectory(dir);
      await files.writeSvid({ chainPem: 'chain', keyPem: 'key', bundlePem: 'bundle' });
      await files.writeToken('token');
      expect(await modeOf(files.pathOf('key'))).toBe(0o600);
      expect(await modeOf(files.pathOf('token'))).toBe(0o640);
      expect(await modeOf(files.pathOf('svid'))).toBe(CREDENTIAL_FILE_MODES.svid);
      expect(await modeOf(files.pathOf('bundle'))).toBe(0o644);
      process.umask(0o000);
      await files.writeToken('token 2');
      expect(await modeOf(files.pathOf('token'))).toBe(0o640);
    } finally {
      process.umask(previous);
    }
  });

  it('tightens the mode of a file that existed with a looser one', async () => {
    const file = path.join(dir, 'svid-key.pem');
    await writeFile(file, 'old', { mode: 0o666 });
    await writeFileAtomic({ path: file, content: 'new', mode: 0o600 });
    expect(await modeOf(file)).toBe(0o600);
  });

  it('leaves no temp files behind, also when a write fails', async () => {
    await writeFilesAtomic([
      { path: path.join(dir, 'a'), content: 'a', mode: 0o644 },
      { path: path.join(dir, 'b'), content: 'b', mode: 0o600 },
    ]);
    await expect(
      writeFilesAtomic([
        { path: path.join(dir, 'a'), content: 'changed', mode: 0o644 },
        { path: path.join(dir, 'missing', 'c'), content: 'c', mode: 0o644 },
      ]),
    ).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(dir)).sort()).toEqual(['a', 'b']);
  });

  it('never lets a reader polling 1,000 times a second see a partial or empty file', async () => {
    const file = path.join(dir, 'access-token');
    await writeFileAtomic({ path: file, content: version(0), mode: 0o640 });
    const stop = new SharedArrayBuffer(4);
    const worker = new Worker(READER, { eval: true, workerData: { file, stop } });
    const result = new Promise<{ reads: number; bad: number; versions: number; firstBad: string }>(
      (resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      },
    );
    try {
      let n = 1;
      // Replace the file until the reader has had plenty of chances to catch it mid-write.
      for (; n <= 400; n++) {
        await writeFileAtomic({ path: file, content: version(n), mode: 0o640 });
      }
      const files = new CredentialDirectory(dir);
      for (; n <= 450; n++) await files.writeToken(version(n));
    } finally {
      Atomics.store(new Int32Array(stop), 0, 1);
    }
    const { reads, bad, versions, firstBad } = await result;
    await worker.terminate();
    expect({ bad, firstBad }).toEqual({ bad: 0, firstBad: '' });
    expect(reads).toBeGreaterThan(50);
    expect(versions).toBeGreaterThan(2);
  });
});

describe('removeFileDurably', () => {
  it('removes the file and accepts one that is already gone', async () => {
    const file = path.join(dir, 'access-token');
    await writeFileAtomic({ path: file, content: 't', mode: 0o640 });
    await removeFileDurably(file);
    await removeFileDurably(file);
    expect(await readdir(dir)).toEqual([]);
  });
});
