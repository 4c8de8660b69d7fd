// deploy/Dockerfile: Node 22, production dependencies only, non-root, `hallmark` as entrypoint,
// and everything the CLI loads at run time copied in (it cannot be built on this machine).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, readRepoFile } from './deploy-files.js';
import { OBJECTS } from './deploy-inventory.js';
import { podTemplatesOf } from './pod-security.js';

/** Dockerfile instructions, continuation lines joined and comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: (op as string).toUpperCase(), args: rest.join(' ') };
    });
}

const steps = instructions(readRepoFile('deploy/Dockerfile'));
const args = (op: string): string[] => steps.filter((s) => s.op === op).map((s) => s.args);
const finalStage = steps.slice(steps.map((s) => s.op).lastIndexOf('FROM'));

describe('deploy/Dockerfile', () => {
  it('builds on node:22-slim in every stage, the last one being the runtime', () => {
    expect(args('FROM')).toEqual(['node:22-slim AS deps', 'node:22-slim']);
  });

  it('installs exactly the locked production dependencies, running no install scripts', () => {
    const run = args('RUN').join('\n');
    expect(run).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(run).not.toMatch(/npm install/);
    expect(args('COPY')[0]).toBe('package.json package-lock.json ./');
  });

  it('runs as the non-root uid and gid the manifests use', () => {
    const users = finalStage.filter((s) => s.op === 'USER').map((s) => s.args);
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

  it('starts `hallmark` (bin/hallmark.js), `server` by default', () => {
    expect(args('ENTRYPOINT')).toEqual(['["node", "/app/bin/hallmark.js"]']);
    expect(args('CMD')).toEqual(['["server"]']);
    expect(finalStage.map((s) => s.op)).toContain('ENTRYPOINT');
  });

  it('copies the entry point and every production source folder, and no tests', () => {
    const copied = finalStage
      .filter((s) => s.op === 'COPY' && !s.args.startsWith('--from'))
      .flatMap((s) => s.args.split(/\s+/).slice(0, -1));
    const build = JSON.parse(readFileSync(path.join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    // The production sources are what tsconfig.build.json compiles; bin/ starts them.
    expect(copied.sort()).toEqual(
      ['bin', 'package-lock.json', 'package.json', 'tsconfig.json', ...build.include].sort(),
    );
    expect(args('COPY').join(' ')).not.toMatch(/(^|\s)(\.|test|scripts)(\s|$)/);
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

  it('does not hide anything the Dockerfile copies', () => {
    for (const source of ['bin', 'src', 'sidecar', 'broker', 'package.json', 'tsconfig.json']) {
      expect(ignored).not.toContain(source);
    }
  });
});
