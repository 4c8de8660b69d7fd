// compilePolicy: the validation table (each kind of problem, located), the whole-document rule, output shape.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compilePolicy, emptyPolicy } from '../../src/policy/index.js';
import { OPTIONS, compile, fixture, problemPaths, problemsOf } from './policy-test-helpers.js';
import { codeOf } from '../helpers/error-code.js';

/** A registration list with one entry, written as YAML flow, for the table below. */
const workload = (fields: string): string => `workloads:\n  - {${fields}}\n`;
const grant = (fields: string): string => `grants:\n  - {${fields}}\n`;

describe('validation table: each kind of problem, at its path', () => {
  const cases: [string, string, string[]][] = [
    // document
    ['unknown top-level key', 'workloads: []\ncolour: blue\n', ['colour']],
    ['root is a list', '- namespace: a\n', ['']],
    ['root is a string', 'just text\n', ['']],
    ['workloads is a mapping', 'workloads: {namespace: a}\n', ['workloads']],
    ['registration is a string', 'workloads: [payments]\n', ['workloads[0]']],
    // registrations: selectors
    ['unknown registration key', workload('namespace: a, pod: x'), ['workloads[0].pod']],
    ['namespace missing', workload('serviceAccount: api'), ['workloads[0].namespace']],
    ['namespace not a string', workload('namespace: 42'), ['workloads[0].namespace']],
    ['namespace upper case', workload('namespace: Payments'), ['workloads[0].namespace']],
    ['namespace with a dot', workload('namespace: pay.ments'), ['workloads[0].namespace']],
    ['namespace leading dash', workload('namespace: -pay'), ['workloads[0].namespace']],
    [
      'namespace of 64 characters',
      workload(`namespace: ${'a'.repeat(64)}`),
      ['workloads[0].namespace'],
    ],
    [
      'service account underscore',
      workload('namespace: a, serviceAccount: my_sa'),
      ['workloads[0].serviceAccount'],
    ],
    [
      'service account trailing dot',
      workload('namespace: a, serviceAccount: "sa."'),
      ['workloads[0].serviceAccount'],
    ],
    [
      'service account of 254 characters',
      workload(`namespace: a, serviceAccount: ${'a'.repeat(254)}`),
      ['workloads[0].serviceAccount'],
    ],
    [
      'service account is a list',
      workload('namespace: a, serviceAccount: [x]'),
      ['workloads[0].serviceAccount'],
    ],
    ['labels is a list', workload('namespace: a, labels: [app]'), ['workloads[0].labels']],
    [
      'label key with a space',
      workload('namespace: a, labels: {"my app": x}'),
      ['workloads[0].labels["my app"]'],
    ],
    [
      'label key empty prefix',
      workload('namespace: a, labels: {"/app": x}'),
      ['workloads[0].labels["/app"]'],
    ],
    [
      'label key empty name',
      workload('namespace: a, labels: {"example.com/": x}'),
      ['workloads[0].labels["example.com/"]'],
    ],
    [
      'label key upper-case prefix',
      workload('namespace: a, labels: {"Example.com/app": x}'),
      ['workloads[0].labels["Example.com/app"]'],
    ],
    [
      'label key name of 64',
      workload(`namespace: a, labels: {${'k'.repeat(64)}: x}`),
      [`workloads[0].labels.${'k'.repeat(64)}`],
    ],
    [
      'label value with a space',
      workload('namespace: a, labels: {app: "a b"}'),
      ['workloads[0].labels.app'],
    ],
    [
      'label value leading dash',
      workload('namespace: a, labels: {app: "-x"}'),
      ['workloads[0].labels.app'],
    ],
    [
      'label value of 64',
      workload(`namespace: a, labels: {app: ${'v'.repeat(64)}}`),
      ['workloads[0].labels.app'],
    ],
    [
      'label value a number',
      workload('namespace: a, labels: {replicas: 3}'),
      ['workloads[0].labels.replicas'],
    ],
    [
      'label value a boolean',
      workload('namespace: a, labels: {canary: true}'),
      ['workloads[0].labels.canary'],
    ],
    // registrations: templates
    ['template not a string', workload('namespace: a, spiffeId: 7'), ['workloads[0].spiffeId']],
    ['template empty', workload('namespace: a, spiffeId: ""'), ['workloads[0].spiffeId']],
    [
      'template relative',
      workload('namespace: a, spiffeId: "ns/{namespace}"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template unknown placeholder',
      workload('namespace: a, spiffeId: "/ns/{namespace}/pod/{podName}"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template bad label key',
      workload('namespace: a, spiffeId: "/x/{label:bad key}"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template empty label key',
      workload('namespace: a, spiffeId: "/x/{label:}"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template unclosed placeholder',
      workload('namespace: a, spiffeId: "/ns/{namespace"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template stray brace',
      workload('namespace: a, spiffeId: "/ns/namespace}"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template placeholder in trust domain',
      workload('namespace: a, spiffeId: "spiffe://{namespace}/x"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template other trust domain',
      workload('namespace: a, spiffeId: "spiffe://example.org/ns/{namespace}"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template upper-case trust domain',
      workload('namespace: a, spiffeId: "spiffe://Hallmark.local/x"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template other scheme',
      workload('namespace: a, spiffeId: "https://hallmark.local/x"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template dot segment',
      workload('namespace: a, spiffeId: "/ns/{namespace}/../admin"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template empty segment',
      workload('namespace: a, spiffeId: "/ns//{namespace}"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template trailing slash',
      workload('namespace: a, spiffeId: "/ns/{namespace}/"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template bad character',
      workload('namespace: a, spiffeId: "/ns/{namespace}/*"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template with a query',
      workload('namespace: a, spiffeId: "/ns/{namespace}?x=1"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template without a path',
      workload('namespace: a, spiffeId: "spiffe://hallmark.local"'),
      ['workloads[0].spiffeId'],
    ],
    [
      'template too long for long names',
      workload(`namespace: a, spiffeId: "/${'p'.repeat(1800)}/{serviceAccount}"`),
      ['workloads[0].spiffeId'],
    ],
    // registrations: TTL
    ['ttl unknown unit', workload('namespace: a, ttl: 1w'), ['workloads[0].ttl']],
    ['ttl without unit', workload('namespace: a, ttl: "90"'), ['workloads[0].ttl']],
    ['ttl a number', workload('namespace: a, ttl: 3600'), ['workloads[0].ttl']],
    ['ttl zero', workload('namespace: a, ttl: 0s'), ['workloads[0].ttl']],
    ['ttl negative', workload('namespace: a, ttl: -1h'), ['workloads[0].ttl']],
    ['ttl compound', workload('namespace: a, ttl: 1h30m'), ['workloads[0].ttl']],
    ['ttl with spaces', workload('namespace: a, ttl: " 1h"'), ['workloads[0].ttl']],
    ['ttl above the maximum', workload('namespace: a, ttl: 25h'), ['workloads[0].ttl']],
    ['ttl of two days', workload('namespace: a, ttl: 2d'), ['workloads[0].ttl']],
    // registrations: shadowing
    [
      'registration shadowed by an earlier broader one',
      'workloads:\n  - {namespace: a}\n  - {namespace: a, serviceAccount: api}\n',
      ['workloads[1]'],
    ],
    [
      'registration shadowed by an identical one',
      'workloads:\n  - {namespace: a, labels: {x: y}}\n  - {namespace: a, labels: {x: y}}\n',
      ['workloads[1]'],
    ],
    // groups
    ['groups is a list', 'groups: [a]\n', ['groups']],
    ['group name with a colon', 'groups: {"key:x": []}\n', ['groups["key:x"]']],
    ['group name with a space', 'groups: {"my group": []}\n', ['groups["my group"]']],
    ['group members a string', 'groups: {g: spiffe://hallmark.local/a}\n', ['groups.g']],
    ['group member a number', 'groups: {g: [1]}\n', ['groups.g[0]']],
    ['group member another group', 'groups: {g: [h], h: []}\n', ['groups.g[0]']],
    [
      'group member other trust domain',
      'groups: {g: ["spiffe://example.org/a"]}\n',
      ['groups.g[0]'],
    ],
    [
      'group member bad SPIFFE ID',
      'groups: {g: ["spiffe://hallmark.local/a//b"]}\n',
      ['groups.g[0]'],
    ],
    [
      'group member trust domain alone',
      'groups: {g: ["spiffe://hallmark.local"]}\n',
      ['groups.g[0]'],
    ],
    [
      'group member star inside',
      'groups: {g: ["spiffe://hallmark.local/*/sa/api"]}\n',
      ['groups.g[0]'],
    ],
    [
      'group member partial star',
      'groups: {g: ["spiffe://hallmark.local/ns/pay*"]}\n',
      ['groups.g[0]'],
    ],
    ['group member bad key id', 'groups: {g: ["key:has space"]}\n', ['groups.g[0]']],
    ['group member empty key id', 'groups: {g: ["key:"]}\n', ['groups.g[0]']],
    ['group member other scheme', 'groups: {g: ["https://example.org"]}\n', ['groups.g[0]']],
    ['duplicate group names', 'groups:\n  g: []\n  g: []\n', ['groups.g']],
    // grants
    ['grants is a mapping', 'grants: {to: x}\n', ['grants']],
    ['grant is a string', 'grants: [x]\n', ['grants[0]']],
    ['grant unknown key', grant('to: "key:a", read: [a], delete: [a]'), ['grants[0].delete']],
    ['grant without to', grant('read: [a]'), ['grants[0].to']],
    ['grant to a number', grant('to: 5, read: [a]'), ['grants[0].to']],
    ['grant to an empty list', grant('to: [], read: [a]'), ['grants[0].to']],
    [
      'grant to a list with a non-string',
      grant('to: ["key:a", {x: 1}], read: [a]'),
      ['grants[0].to[1]'],
    ],
    ['grant to an unknown group', grant('to: readers, read: [a]'), ['grants[0].to']],
    [
      'grant to an unknown group in a list',
      grant('to: ["key:a", readers], read: [a]'),
      ['grants[0].to[1]'],
    ],
    [
      'grant to other trust domain',
      grant('to: "spiffe://example.org/a", read: [a]'),
      ['grants[0].to'],
    ],
    [
      'grant to a malformed name',
      grant('to: "spiffe:/hallmark.local/a", read: [a]'),
      ['grants[0].to'],
    ],
    ['grant read a string', grant('to: "key:a", read: a'), ['grants[0].read']],
    ['grant read a non-string', grant('to: "key:a", read: [1]'), ['grants[0].read[0]']],
    ['grant path traversal', grant('to: "key:a", read: [a/../b]'), ['grants[0].read[0]']],
    ['grant path double slash', grant('to: "key:a", read: ["a//b"]'), ['grants[0].read[0]']],
    ['grant path leading slash', grant('to: "key:a", read: [/a]'), ['grants[0].read[0]']],
    ['grant path trailing slash', grant('to: "key:a", write: [a/]'), ['grants[0].write[0]']],
    ['grant path partial star', grant('to: "key:a", read: ["pay*"]'), ['grants[0].read[0]']],
    ['grant path star in the middle', grant('to: "key:a", read: ["a/*/b"]'), ['grants[0].read[0]']],
    ['grant path star first', grant('to: "key:a", read: ["*/b"]'), ['grants[0].read[0]']],
    ['grant path empty prefix', grant('to: "key:a", read: ["/*"]'), ['grants[0].read[0]']],
    ['grant path double star', grant('to: "key:a", read: ["a/**"]'), ['grants[0].read[0]']],
    [
      'grant path of 513 bytes',
      grant(`to: "key:a", read: [${'a'.repeat(513)}]`),
      ['grants[0].read[0]'],
    ],
    ['grant that grants nothing', grant('to: "key:a", read: [], write: []'), ['grants[0]']],
  ];

  it.each(cases)('%s', (_name, text, paths) => {
    expect(problemPaths(text)).toEqual(paths);
  });

  it('gives every problem a line and column inside the document', () => {
    for (const [, text] of cases) {
      for (const problem of problemsOf(() => compile(text))) {
        expect(problem.line, `${problem.path} in ${text}`).toBeGreaterThanOrEqual(1);
        expect(problem.column).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('accepts the edge values just inside each limit', () => {
    const text = [
      'workloads:',
      `  - namespace: ${'a'.repeat(63)}`,
      `    serviceAccount: ${'b'.repeat(253)}`,
      `    labels: {"app.kubernetes.io/name": ${'v'.repeat(63)}, empty: ""}`,
      '    ttl: 24h',
      '  - {namespace: b, serviceAccount: my.sa-1, ttl: 1d}',
      '  - {namespace: c, ttl: 30s, spiffeId: "spiffe://hallmark.local/c/{label:tier}", allowForeignPath: true}',
      'groups: {g.1_x-y: [], "9lives": ["spiffe://hallmark.local/*", "key:osb-binding.1"]}',
      'grants:',
      `  - {to: [g.1_x-y, 9lives], read: ["*", a/*, ${'p'.repeat(512)}], write: null}`,
    ].join('\n');
    expect(compile(text).registrations).toHaveLength(3);
  });
});

describe('the whole document is checked at once', () => {
  it('lists every problem of a document, in source order, with its location', () => {
    const problems = problemsOf(() => compile(fixture('several-problems.yaml')));
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['workloads[0].namespace', 3],
      ['workloads[0].ttl', 4],
      ['workloads[1].spiffeId', 6],
      ['groups.readers[0]', 8],
      ['grants[0].to', 10],
      ['grants[0].read[0]', 11],
      ['colour', 13],
    ]);
    for (const p of problems) expect(p.message).not.toBe('');
  });

  it('reports several problems of one value', () => {
    const problems = problemsOf(() =>
      compile(workload('namespace: a, spiffeId: "spiffe://example.org/{pod}/{label:bad key}"')),
    );
    expect(problems.map((p) => p.path)).toEqual([
      'workloads[0].spiffeId',
      'workloads[0].spiffeId',
      'workloads[0].spiffeId',
    ]);
  });

  it('caps the list at 200 problems and says how many more there were', () => {
    const text = `grants:\n${'  - {to: "key:a", read: ["a//b"]}\n'.repeat(250)}`;
    const problems = problemsOf(() => compile(text));
    expect(problems).toHaveLength(201);
    expect(problems[200]?.path).toBe('');
  });
});

describe('compiled output', () => {
  it('compiles the docs/policy.md example', () => {
    const text = fixture('example.yaml');
    const policy = compile(text);
    expect(policy.registrations.map((r) => [r.namespace, r.serviceAccount, r.ttlSeconds])).toEqual([
      ['payments', 'api', 3600],
      ['payments', 'batch', 900],
      ['ops', undefined, undefined],
    ]);
    expect([...policy.groups.keys()]).toEqual(['payments-readers', 'admins']);
    expect(policy.source).toBe(text);
    expect(policy.sha256).toBe(createHash('sha256').update(text).digest('hex'));
    expect(policy.trustDomain).toBe('hallmark.local');
  });

  it('compiles JSON', () => {
    expect(compile(fixture('example.json')).registrations).toHaveLength(1);
  });

  it('accepts an empty mapping and null sections as an empty policy', () => {
    for (const text of ['{}', 'workloads:\ngroups:\ngrants:\n']) {
      const policy = compile(text);
      expect(policy.registrations).toHaveLength(0);
      expect(policy.grants.byIdentity.size).toBe(0);
    }
  });

  it('is frozen', () => {
    const policy = compile(fixture('example.yaml'));
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.registrations)).toBe(true);
    expect(Object.isFrozen(policy.registrations[0])).toBe(true);
    expect(Object.isFrozen(policy.registrations[0]?.labels)).toBe(true);
    expect(Object.isFrozen(policy.registrations[0]?.template)).toBe(true);
    expect(Object.isFrozen(policy.grants)).toBe(true);
  });

  it('takes the trust domain in either form and checks SPIFFE IDs against it', () => {
    const text = 'groups: {g: ["spiffe://example.org/ns/a/sa/b"]}\n';
    expect(
      compilePolicy(text, { ...OPTIONS, trustDomain: 'spiffe://example.org' }).trustDomain,
    ).toBe('example.org');
    expect(problemPaths(text)).toEqual(['groups.g[0]']);
  });

  it('applies the configured maximum TTL and document size', () => {
    const text = workload('namespace: a, ttl: 2h');
    expect(problemPaths(text, { ...OPTIONS, maxTtlSeconds: 3600 })).toEqual(['workloads[0].ttl']);
    expect(problemPaths(text, { ...OPTIONS, maxBytes: 10 })).toEqual(['']);
  });

  it('refuses bad compile options with their own codes', () => {
    expect(codeOf(() => compilePolicy('{}', { ...OPTIONS, trustDomain: 'Bad_TD!' }))).toBe(
      'ERR_SPIFFE_TRUST_DOMAIN_INVALID',
    );
    expect(codeOf(() => compilePolicy('{}', { ...OPTIONS, maxTtlSeconds: 0 }))).toBe(
      'ERR_CONFIG_INVALID',
    );
    expect(codeOf(() => emptyPolicy({ ...OPTIONS, maxTtlSeconds: 1.5 }))).toBe(
      'ERR_CONFIG_INVALID',
    );
  });

  it('has an empty default policy that registers nothing and grants nothing', () => {
    const policy = emptyPolicy(OPTIONS);
    expect(policy.registrations).toHaveLength(0);
    expect(policy.grants.byIdentity.size + policy.grants.byPrefix.size).toBe(0);
    expect(policy.source).toBe('');
  });
});
