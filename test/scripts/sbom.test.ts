// `npm run sbom`: CycloneDX JSON of the production dependency tree, dev tools left out.
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../deploy/deploy-files.js';

const run = promisify(execFile);
const FILE = path.join(REPO_ROOT, 'sbom.cdx.json');

interface Bom {
  bomFormat: string;
  specVersion: string;
  metadata: { component: { purl: string; version: string } };
  components: { name: string; version: string; purl: string }[];
}

describe('npm run sbom', () => {
  afterAll(() => rm(FILE, { force: true }));

  it('writes a CycloneDX document of exactly the locked production packages', async () => {
    await run('npm', ['run', '--silent', 'sbom'], { cwd: REPO_ROOT, timeout: 120_000 });
    const bom = JSON.parse(await readFile(FILE, 'utf8')) as Bom;
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(Number(bom.specVersion)).toBeGreaterThanOrEqual(1.5);
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(bom.metadata.component.purl).toBe(`pkg:npm/hallmark@${pkg.version}`);
    const present = new Set(bom.components.map((c) => `${c.name}@${c.version}`));
    const names = new Set(bom.components.map((c) => c.name));
    for (const [name, version] of Object.entries(pkg.dependencies))
      expect(present.has(`${name}@${version}`), name).toBe(true);
    // Tools only the dev tree holds (some devDependencies, @types/node say, are production too).
    for (const name of [
      'vitest',
      'eslint',
      'prettier',
      'tsx',
      'typescript-eslint',
      'kubernetes-models',
    ])
      expect(names.has(name), name).toBe(false);
    expect(bom.components.every((c) => c.purl.startsWith('pkg:npm/'))).toBe(true);
  }, 150_000);
});
