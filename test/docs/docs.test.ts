// The repository explains itself: a short README, links that resolve, no document from elsewhere.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KNOWN_VARIABLES } from '../../src/config/index.js';
import { anchorsOf, isExternal, linksOf, sectionOf } from './markdown-links.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Not the repository's own text: installed packages, git's store, build and run outputs. */
const SKIPPED = new Set(['node_modules', '.git', 'dist', '.hallmark', 'bench-results', 'coverage']);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(full);
    return entry.isFile() ? [full] : [];
  });
}

const files = filesUnder(ROOT);
const markdownFiles = files.filter((file) => file.endsWith('.md'));
const read = (relative: string): string => readFileSync(path.join(ROOT, relative), 'utf8');
const readme = read('README.md');

describe('README', () => {
  it('stays under 300 lines', () => {
    expect(readme.split('\n').length).toBeLessThan(300);
  });

  it('opens with the commands that start and test Hallmark', () => {
    const top = readme.split('\n').slice(0, 8).join('\n');
    expect(top).toContain('npm install && npm start');
    expect(top).toContain('npm install && npm test');
    expect(top).toContain('npm run demo');
  });

  it('links every document in docs/', () => {
    const linked = new Set(
      linksOf(readme)
        .filter((link) => !isExternal(link.target))
        .map((link) => path.normalize(link.target.split('#')[0] ?? '')),
    );
    const docs = readdirSync(path.join(ROOT, 'docs')).filter((name) => name.endsWith('.md'));
    expect(docs.length).toBeGreaterThan(0);
    expect(docs.filter((name) => !linked.has(path.join('docs', name)))).toEqual([]);
  });
});

describe('links in the Markdown files', () => {
  it('finds the documents to check', () => {
    const names = markdownFiles.map((file) => path.relative(ROOT, file));
    expect(names).toContain('README.md');
    expect(names).toContain(path.join('docs', 'architecture.md'));
  });

  it('resolve to a file of the repository, and to a heading of it when they name one', () => {
    const broken: string[] = [];
    for (const file of markdownFiles) {
      const text = readFileSync(file, 'utf8');
      for (const { line, target } of linksOf(text)) {
        if (isExternal(target)) continue;
        const where = `${path.relative(ROOT, file)}:${line}: ${target}`;
        const [filePart = '', anchor] = target.split('#');
        const resolved = filePart === '' ? file : path.resolve(path.dirname(file), filePart);
        if (!resolved.startsWith(ROOT) || !existsSync(resolved)) {
          broken.push(`${where} (no such file)`);
          continue;
        }
        if (anchor === undefined) continue;
        const isMarkdown = statSync(resolved).isFile() && resolved.endsWith('.md');
        if (!isMarkdown || !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) {
          broken.push(`${where} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('the repository names no document outside it', () => {
  // Spelled in pieces so this file does not mention them itself.
  const outside = [['DESIGN', 'md'].join('.'), ['..', 'shared'].join('/')];

  it.each(outside)('no file mentions %s', (name) => {
    const mentions = files.filter((file) => readFileSync(file, 'latin1').includes(name));
    expect(mentions.map((file) => path.relative(ROOT, file))).toEqual([]);
  });
});

describe('docs/architecture.md', () => {
  const walk = sectionOf(read('docs/architecture.md'), 'Walk of a request: `POST /v1/svid/x509`');
  const named = [...walk.matchAll(/`((?:src|sidecar|broker)\/[\w./-]+\.ts)`/g)].map((m) => m[1]);

  it('walks a CSR through files that exist, each named once', () => {
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((file) => !existsSync(path.join(ROOT, file ?? '')))).toEqual([]);
    expect(named.filter((file, i) => named.indexOf(file) !== i)).toEqual([]);
  });

  it('starts the walk at the listener and passes the route, the CA, the X.509 engine and audit', () => {
    const order = [
      'src/http/serving-tls.ts',
      'src/http/routes/svid-routes.ts',
      'src/attest/pod-attestor.ts',
      'src/policy/registration-match.ts',
      'src/ca/certificate-authority.ts',
      'src/x509/svid-issuer.ts',
      'src/audit/pg-audit-log.ts',
    ].map((file) => named.indexOf(file));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});

describe('docs/policy.md', () => {
  it('shows the example policy the policy tests run against', () => {
    const example = /```yaml\n([\s\S]*?)```/.exec(read('docs/policy.md'))?.[1];
    const fixture = read('test/fixtures/policy/example.yaml');
    expect(parse(example ?? '')).toEqual(parse(fixture));
  });
});

describe('the variables in the docs', () => {
  const docs = [
    readme,
    ...readdirSync(path.join(ROOT, 'docs')).map((name) => read(`docs/${name}`)),
  ];
  const named = new Set(
    docs.flatMap((text) => [...text.matchAll(/HALLMARK_[A-Z0-9_]*[A-Z0-9]/g)].map((m) => m[0])),
  );
  /** Named on purpose as a variable every binary refuses (a Service link's). */
  const refusedExample = 'HALLMARK_SERVICE_HOST';

  it('document every variable a Hallmark binary reads', () => {
    expect(KNOWN_VARIABLES.filter((name) => !named.has(name))).toEqual([]);
  });

  it('name no variable the binaries do not read', () => {
    expect(
      [...named].filter((name) => !KNOWN_VARIABLES.includes(name) && name !== refusedExample),
    ).toEqual([]);
  });
});
