// bundle.pem as the cluster's primary writes it from the workers' reports: the newest bundle wins.
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleFile } from '../../src/server/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function bundleFile(): Promise<{ file: string; bundle: BundleFile; errors: Error[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bundle-file-'));
  dirs.push(dir);
  const file = path.join(dir, 'bundle.pem');
  const errors: Error[] = [];
  return { file, bundle: new BundleFile(file, (err) => errors.push(err)), errors };
}

describe('the primary’s bundle.pem', () => {
  it('keeps the highest sequence any worker reported, whatever the order of the reports', async () => {
    const { file, bundle, errors } = await bundleFile();
    void bundle.offer(3, 'three');
    void bundle.offer(5, 'five');
    void bundle.offer(4, 'four (a worker that reloaded late)');
    void bundle.offer(5, 'five again');
    await bundle.settled();
    expect(await readFile(file, 'utf8')).toBe('five');
    await bundle.offer(6, 'six');
    expect(await readFile(file, 'utf8')).toBe('six');
    expect(errors).toEqual([]);
    // Written by rename: no temporary file is left beside it.
    expect(await readdir(path.dirname(file))).toEqual(['bundle.pem']);
  });

  it('reports a failed write and writes the same bundle when it is reported again', async () => {
    const { file, bundle, errors } = await bundleFile();
    await rm(path.dirname(file), { recursive: true });
    await bundle.offer(1, 'one');
    expect(errors).toHaveLength(1);
    await mkdir(path.dirname(file));
    await bundle.offer(1, 'one');
    expect(await readFile(file, 'utf8')).toBe('one');
  });
});
