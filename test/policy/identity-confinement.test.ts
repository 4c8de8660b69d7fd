// Identity confinement: a registration renders IDs under /ns/<its namespace>/ unless it says
// allowForeignPath, and never another namespace's, another registration's or the server's.
import { describe, expect, it } from 'vitest';
import {
  compilePolicy,
  findRegistration,
  foreignPathSummary,
  isStillRegistered,
  type WorkloadSelectorInput,
} from '../../src/policy/index.js';
import { OPTIONS, compile, problemsOf } from './policy-test-helpers.js';

/** One registration per entry, each as YAML flow fields. */
const policy = (...entries: string[]): string =>
  `workloads:\n${entries.map((e) => `  - {${e}}`).join('\n')}\n`;

const pod = (
  namespace: string,
  serviceAccount: string,
  labels: Record<string, string> = {},
): WorkloadSelectorInput => ({ namespace, serviceAccount, labels });

describe('refused at load: a registration reaching outside its namespace', () => {
  const cases: [string, string, string[]][] = [
    ['a literal ID in another namespace', policy('namespace: dev, spiffeId: /ns/prod/sa/api')],
    [
      'the same as a full spiffe:// ID',
      policy('namespace: dev, spiffeId: "spiffe://hallmark.local/ns/prod/sa/api"'),
    ],
    [
      'the namespace segment taken from a pod label',
      policy('namespace: dev, spiffeId: "/ns/{label:team}/sa/{serviceAccount}"'),
    ],
    [
      'the whole prefix taken from pod labels',
      policy('namespace: dev, spiffeId: "/{label:a}/{label:b}/sa/{serviceAccount}"'),
    ],
    [
      'a namespace named like another one with a suffix (dev -> dev2)',
      policy('namespace: dev, spiffeId: "/ns/{namespace}2/sa/{serviceAccount}"'),
    ],
    [
      'a label glued to the namespace segment',
      policy('namespace: dev, spiffeId: "/ns/{namespace}-{label:x}/sa/{serviceAccount}"'),
    ],
    [
      'a label glued with no separator',
      policy('namespace: dev, spiffeId: "/ns/{namespace}{label:x}/{serviceAccount}"'),
    ],
    ['an upper-case tree', policy('namespace: dev, spiffeId: "/NS/dev/sa/{serviceAccount}"')],
    ['an upper-case namespace', policy('namespace: dev, spiffeId: "/ns/DEV/sa/{serviceAccount}"')],
    ['the namespace node itself', policy('namespace: dev, spiffeId: "/ns/{namespace}"')],
    ['a path outside /ns/', policy('namespace: dev, spiffeId: "/dev/{serviceAccount}"')],
    ["the server's own ID", policy('namespace: dev, spiffeId: /hallmark/server')],
  ].map(([name, text]) => [name as string, text as string, ['workloads[0].spiffeId']]);

  const withFlag: [string, string, string[]][] = [
    [
      'another namespace, even with allowForeignPath',
      policy('namespace: dev, spiffeId: /ns/prod/sa/api, allowForeignPath: true'),
    ],
    [
      'an upper-case /NS/ tree, even with allowForeignPath',
      policy('namespace: dev, spiffeId: "/NS/prod/sa/api", allowForeignPath: true'),
    ],
    [
      'a first segment a label could make "ns"',
      policy('namespace: dev, spiffeId: "/{label:tree}/prod/sa/api", allowForeignPath: true'),
    ],
    [
      'a first segment a label could complete into "ns"',
      policy('namespace: dev, spiffeId: "/n{label:x}/prod/api", allowForeignPath: true'),
    ],
    [
      "the server's own ID, even with allowForeignPath",
      policy('namespace: dev, spiffeId: /hallmark/server, allowForeignPath: true'),
    ],
    [
      "the server's tree in another case",
      policy('namespace: dev, spiffeId: "/Hallmark/{serviceAccount}", allowForeignPath: true'),
    ],
    [
      "a first segment a service account could complete into the server's",
      policy('namespace: dev, spiffeId: "/hallma{serviceAccount}/server", allowForeignPath: true'),
    ],
    [
      'a namespace called "ns" rendering its name first',
      policy('namespace: ns, spiffeId: "/{namespace}/prod/api", allowForeignPath: true'),
    ],
  ].map(([name, text]) => [name as string, text as string, ['workloads[0].spiffeId']]);

  it.each([...cases, ...withFlag])('%s', (_name, text, paths) => {
    const problems = problemsOf(() => compile(text));
    expect(problems.map((p) => p.path)).toEqual(paths);
    expect(problems[0]?.line).toBe(2);
  });

  it('names the line of the spiffeId in a block mapping', () => {
    const text = [
      'workloads:',
      '  - namespace: dev',
      '    serviceAccount: api',
      '  - namespace: dev',
      '    serviceAccount: web',
      '    spiffeId: /ns/prod/sa/web',
    ].join('\n');
    const [problem] = problemsOf(() => compile(text));
    expect(problem).toMatchObject({ path: 'workloads[1].spiffeId', line: 6 });
  });

  it('refuses allowForeignPath that is not a boolean', () => {
    const text = policy('namespace: dev, spiffeId: /ops/a, allowForeignPath: "yes"');
    expect(problemsOf(() => compile(text)).map((p) => p.path)).toEqual([
      'workloads[0].allowForeignPath',
    ]);
  });
});

describe('refused at load: foreign paths two namespaces could share', () => {
  it.each([
    ['the same literal ID', '/shared/api', '/shared/api'],
    ['the same ID in another case', '/Shared/API', '/shared/api'],
    [
      'a service account that can render the other literal',
      '/shared/{serviceAccount}',
      '/shared/api',
    ],
    ['two templates with one prefix', '/shared/{serviceAccount}', '/shared/{label:app}'],
    ['a prefix of the other', '/shared/{serviceAccount}', '/shared/x/{serviceAccount}'],
  ])('%s', (_name, first, second) => {
    const text = policy(
      `namespace: dev, spiffeId: "${first}", allowForeignPath: true`,
      `namespace: prod, spiffeId: "${second}", allowForeignPath: true`,
    );
    const problems = problemsOf(() => compile(text));
    expect(problems.map((p) => [p.path, p.line])).toEqual([['workloads[1].spiffeId', 3]]);
    expect(problems[0]?.message).toContain('workloads[0]');
  });
});

describe('accepted', () => {
  it.each([
    ['the default template', policy('namespace: dev')],
    [
      'a label under the own namespace',
      policy('namespace: dev, spiffeId: "/ns/{namespace}/q/{label:queue}"'),
    ],
    [
      'a literal own namespace',
      policy('namespace: dev, spiffeId: "spiffe://hallmark.local/ns/dev/sa/{serviceAccount}"'),
    ],
    [
      'namespaces whose names prefix one another, each in its own tree',
      policy('namespace: dev', 'namespace: dev2', 'namespace: dev-2'),
    ],
    [
      'a foreign path with allowForeignPath',
      policy('namespace: ops, spiffeId: "/ops/{serviceAccount}", allowForeignPath: true'),
    ],
    [
      'one namespace sharing a foreign ID between its registrations',
      policy(
        'namespace: ops, serviceAccount: a, spiffeId: /shared/x, allowForeignPath: true',
        'namespace: ops, serviceAccount: b, spiffeId: "/shared/{serviceAccount}", allowForeignPath: true',
      ),
    ],
    [
      'foreign IDs of two namespaces that can never be equal',
      policy(
        'namespace: dev, spiffeId: /svc, allowForeignPath: true',
        'namespace: prod, spiffeId: "/svc/{serviceAccount}", allowForeignPath: true',
        'namespace: qa, spiffeId: "/svc2/{serviceAccount}", allowForeignPath: true',
      ),
    ],
    [
      'a server-like name outside its tree',
      policy('namespace: dev, spiffeId: /hallmark-demo/server, allowForeignPath: true'),
    ],
  ])('%s', (_name, text) => {
    expect(() => compile(text)).not.toThrow();
  });

  it('lists the registrations allowed out of their namespace, for the audit row', () => {
    const compiled = compile(
      policy(
        'namespace: dev, serviceAccount: x, spiffeId: /ns/dev/x, allowForeignPath: true',
        'namespace: dev',
        'namespace: ops, spiffeId: "/ops/{serviceAccount}", allowForeignPath: true',
      ),
    );
    expect(compiled.foreignPaths.map((r) => r.index)).toEqual([2]);
    expect(foreignPathSummary(compiled.foreignPaths)).toBe(
      'allowForeignPath: workloads[2] (ops) /ops/{serviceAccount}',
    );
    expect(foreignPathSummary(compile(policy('namespace: dev')).foreignPaths)).toBe('');
  });
});

describe('at issuance', () => {
  // A document stored before confinement: it loads (tolerated), but its pods are refused.
  const stored = compilePolicy(
    policy(
      'namespace: dev, labels: {app: web}, spiffeId: "/ns/{label:team}/sa/{serviceAccount}"',
      'namespace: dev',
      'namespace: ops, spiffeId: "/ops/{serviceAccount}"',
    ),
    { ...OPTIONS, tolerateUnconfined: true },
  );

  it('loads a stored document and lists what it will refuse', () => {
    expect(stored.unconfined.map((r) => r.index)).toEqual([0, 2]);
  });

  it('refuses a rendering outside the namespace instead of issuing it or trying the next', () => {
    expect(findRegistration(stored, pod('dev', 'api', { app: 'web', team: 'prod' }))).toBeNull();
    expect(findRegistration(stored, pod('ops', 'deploy'))).toBeNull();
    // rendered inside its own namespace, the same registration still issues
    expect(
      findRegistration(stored, pod('dev', 'api', { app: 'web', team: 'dev' }))?.spiffeId.toString(),
    ).toBe('spiffe://hallmark.local/ns/dev/sa/api');
    // a pod the first registration does not select still gets the second
    expect(findRegistration(stored, pod('dev', 'api'))?.index).toBe(1);
  });

  it('ends a login whose registration now renders outside its namespace', () => {
    expect(
      isStillRegistered(
        stored,
        pod('dev', 'api', { app: 'web', team: 'prod' }),
        'spiffe://hallmark.local/ns/prod/sa/api',
      ),
    ).toBe(false);
  });

  it('is refused on a new load without tolerance', () => {
    expect(problemsOf(() => compile(stored.source)).map((p) => p.path)).toEqual([
      'workloads[0].spiffeId',
      'workloads[2].spiffeId',
    ]);
  });
});
