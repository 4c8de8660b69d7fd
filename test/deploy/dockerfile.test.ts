// deploy/Dockerfile: Node 22, compiled at build time, production dependencies only, non-root,
// the compiled `hallmark` as entrypoint (it cannot be built on this machine, so it is read).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { COMPILED_ENTRY, runtimeAssets } from '../../scripts/build.js';
import { REPO_ROOT, readRepoFile } from './deploy-files.js';
import { OBJECTS } from './deploy-inventory.js';
import { argsOf, dockerfileStages, entrypointOf, workdirOf } from './dockerfile.js';
import type { Stage } from './dockerfile.js';
import { podTemplatesOf } from './pod-security.js';

const stages = dockerfileStages();
const image = stages.at(-1) as Stage;

function stageNamed(name: string): Stage {
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage named ${name}`);
  return stage;
}

/** Sources of a stage's COPY instructions from the build context (not `--from` a stage). */
function contextSources(stage: Stage): string[] {
  return argsOf(stage, 'COPY')
    .filter((args) => !args.startsWith('--from'))
    .flatMap((args) => args.split(/\s+/).slice(0, -1));
}

/** The `--from=<stage> <source> <dest>` COPY instructions of a stage. */
function stageCopies(stage: Stage): { from: string; source: string; dest: string }[] {
  return argsOf(stage, 'COPY')
    .filter((args) => args.startsWith('--from='))
    .map((args) => {
      const [from, source, dest] = args.split(/\s+/);
      return { from: (from as string).slice('--from='.length), source: source!, dest: dest! };
    });
}

const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, file), 'utf8')) as Record<string, unknown>;
const buildConfig = readJson('tsconfig.build.json') as {
  include: string[];
  compilerOptions?: { outDir?: string };
};

describe('deploy/Dockerfile', () => {
  it('builds on node:22-slim in every stage, the last one being the runtime', () => {
    expect(stages.map((s) => s.from)).toEqual(['node:22-slim', 'node:22-slim', 'node:22-slim']);
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', undefined]);
  });

  it('installs exactly the locked dependencies, running no install scripts', () => {
    for (const stage of stages) {
      const run = argsOf(stage, 'RUN').join('\n');
      expect(run).not.toMatch(/npm install/);
      for (const npm of run.match(/npm ci[^&\n]*/g) ?? []) expect(npm).toMatch(/--ignore-scripts/);
    }
    for (const name of ['build', 'deps']) {
      // The lock file first, so the install layer is cached until the dependencies change.
      expect(argsOf(stageNamed(name), 'COPY')[0]).toBe('package.json package-lock.json ./');
      expect(argsOf(stageNamed(name), 'RUN')[0]).toMatch(/^npm ci /);
    }
    expect(argsOf(stageNamed('deps'), 'RUN')[0]).toMatch(/^npm ci --omit=dev --ignore-scripts/);
    expect(argsOf(stageNamed('build'), 'RUN')[0]).not.toMatch(/--omit=dev/);
  });

  it('builds the one native addon (optional pkcs11js) in the deps stage, the toolchain left behind', () => {
    const pkg = readJson('package.json') as {
      optionalDependencies?: Record<string, string>;
      allowScripts?: Record<string, boolean>;
    };
    const lock = readJson('package-lock.json') as {
      packages: Record<string, { hasInstallScript?: boolean; dev?: boolean }>;
    };
    // Production packages whose install script must run for them to work: exactly pkcs11js,
    // which package.json allows and the deps stage rebuilds (npm ci there ignores scripts).
    const native = Object.keys(pkg.optionalDependencies ?? {}).filter(
      (name) => lock.packages[`node_modules/${name}`]?.hasInstallScript === true,
    );
    expect(native).toEqual(['pkcs11js']);
    expect(pkg.allowScripts?.pkcs11js).toBe(true);
    const deps = argsOf(stageNamed('deps'), 'RUN').join('\n');
    const rebuilt = [...deps.matchAll(/npm rebuild ([a-z0-9@/._-]+)/g)].map((m) => m[1]);
    expect(rebuilt).toEqual(native);
    expect(deps).toMatch(/apt-get install -y --no-install-recommends python3 make g\+\+/);
    // Compiled against the image's own headers, then loaded once to prove it.
    expect(deps).toContain('--nodedir=/usr/local');
    expect(deps).toContain(`node -e "require('pkcs11js')"`);
    expect(argsOf(image, 'RUN')).toEqual([]);
  });

  it('compiles what tsconfig.build.json includes, and copies the assets scripts/build.ts copies', async () => {
    const build = stageNamed('build');
    expect(contextSources(build).sort()).toEqual(
      [
        'package.json',
        'package-lock.json',
        'tsconfig.json',
        'tsconfig.build.json',
        ...buildConfig.include,
      ].sort(),
    );
    const outDir =
      buildConfig.compilerOptions?.outDir ??
      (readJson('tsconfig.json') as { compilerOptions: { outDir: string } }).compilerOptions.outDir;
    expect(outDir).toBe('dist');
    const run = argsOf(build, 'RUN').join('\n');
    expect(run).toMatch(/(^|\s)node_modules\/\.bin\/tsc -p tsconfig\.build\.json(\s|$)/);
    const assets = await runtimeAssets();
    expect(assets).not.toEqual([]);
    for (const asset of assets) expect(run).toContain(`cp ${asset} dist/${asset}`);
  });

  it('ships the compiled tree, production dependencies and package.json only', () => {
    expect(contextSources(image)).toEqual(['package.json']);
    expect(stageCopies(image)).toEqual([
      { from: 'deps', source: '/app/node_modules', dest: './node_modules' },
      { from: 'build', source: '/app/dist', dest: './dist' },
      { from: 'deps', source: '/app/sbom.cdx.json', dest: './sbom.cdx.json' },
    ]);
    expect(workdirOf(stageNamed('build'))).toBe('/app');
    expect(workdirOf(stageNamed('deps'))).toBe('/app');
    for (const stage of stages) {
      expect(contextSources(stage).join(' ')).not.toMatch(/(^|\s)(\.|test|scripts|bin)(\s|$)/);
    }
  });

  it('writes the SBOM of the production packages in the deps stage, where only they are installed', () => {
    const runs = argsOf(stageNamed('deps'), 'RUN');
    expect(runs[0]).toMatch(/^npm ci --omit=dev/);
    expect(runs[1]).toBe(
      'npm sbom --sbom-format cyclonedx --sbom-type application --omit dev > sbom.cdx.json',
    );
  });

  it('runs as the non-root uid and gid the manifests use', () => {
    const users = argsOf(image, 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = (users[0] as string).split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    for (const { object } of OBJECTS) {
      for (const { template } of podTemplatesOf(object)) {
        const context = (template.spec as V1PodSpec).securityContext;
        expect([context?.runAsUser, context?.runAsGroup]).toEqual([uid, gid]);
      }
    }
  });

  it('starts the compiled `hallmark` (dist/src/cli/bin.js), `server` by default', () => {
    expect(workdirOf(image)).toBe('/app');
    expect(entrypointOf(image)).toEqual(['node', `/app/dist/${COMPILED_ENTRY}`]);
    expect(argsOf(image, 'CMD')).toEqual(['["server"]']);
    // The entry is compiled from a source that exists.
    expect(existsSync(path.join(REPO_ROOT, COMPILED_ENTRY.replace(/\.js$/, '.ts')))).toBe(true);
  });

  it('is used by every container of the manifests', () => {
    const deployments = OBJECTS.filter((o) => o.object.kind === 'Deployment');
    for (const { object } of deployments) {
      const spec = (object as unknown as V1Deployment).spec?.template.spec as V1PodSpec;
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        expect(c.image).toBe('registry.example.com/hallmark:0.1.0');
        expect(c.command, `${c.name} must keep the image entrypoint`).toBeUndefined();
      }
    }
  });
});

describe('.dockerignore (the build context is the repository root)', () => {
  const ignored = readRepoFile('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('keeps dependencies, history, tests and secret values out of the context', () => {
    expect(ignored).toEqual(
      expect.arrayContaining(['.git', 'node_modules', 'test', 'deploy/secrets', '**/*.key']),
    );
  });

  it('does not hide anything the Dockerfile copies from the context', () => {
    const copied = stages.flatMap(contextSources);
    expect(copied).toContain('src');
    for (const source of copied) expect(ignored).not.toContain(source);
  });
});
