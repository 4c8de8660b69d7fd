// The policy's `federation` list and `federatesWith`: the shape compiles; each mistake is
// a located problem of ERR_POLICY_INVALID.
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import { findRegistration } from '../../src/policy/index.js';
import { createTestPki } from '../sidecar/test-pki.js';
import { compile, problemPaths, problemsOf } from './policy-test-helpers.js';

const B = await createTestPki(systemClock, 'b.example');
const C = await createTestPki(systemClock, 'c.example');
const indent = (pem: string): string =>
  pem
    .trim()
    .split('\n')
    .map((line) => `        ${line}`)
    .join('\n');

/** The example, with a real bootstrap bundle. */
const document = (bootstrap = B.bundlePem, extra = ''): string => `
federation:
  - trustDomain: b.example
    bundleEndpointURL: https://hallmark.b.example:8443/v1/bundle
    profile: https_spiffe
    endpointSPIFFEID: spiffe://b.example/hallmark/server
    bootstrapBundle: |
${indent(bootstrap)}
  - trustDomain: w.example
    bundleEndpointURL: https://bundles.w.example/td
    profile: https_web
${extra}
workloads:
  - namespace: shop
    serviceAccount: web
    federatesWith: [b.example, w.example]
  - namespace: shop
`;

describe('the federation section', () => {
  it("compiles the issue's shape; registrations carry federatesWith", () => {
    const policy = compile(document());
    expect(policy.federation.map((f) => [f.trustDomain, f.profile])).toEqual([
      ['b.example', 'https_spiffe'],
      ['w.example', 'https_web'],
    ]);
    const spiffe = policy.federation[0]!;
    expect(spiffe.endpointSpiffeId).toBe('spiffe://b.example/hallmark/server');
    expect(spiffe.bootstrapBundle?.x509Authorities).toHaveLength(1);
    expect(spiffe.bootstrapSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(policy.federation[1]!.bootstrapBundle).toBeUndefined();
    const web = findRegistration(policy, { namespace: 'shop', serviceAccount: 'web', labels: {} });
    expect(web?.federatesWith).toEqual(['b.example', 'w.example']);
    const other = findRegistration(policy, { namespace: 'shop', serviceAccount: 'x', labels: {} });
    expect(other?.federatesWith).toEqual([]);
  });

  const entry = (fields: string): string =>
    `federation:\n  - {${fields}}\nworkloads:\n  - namespace: a\n`;
  const web =
    'trustDomain: w.example, bundleEndpointURL: "https://w.example/b", profile: https_web';
  it.each([
    ['not a list', 'federation: {trustDomain: b}\n', ['federation']],
    ['an entry not a mapping', 'federation: [b.example]\n', ['federation[0]']],
    ['an unknown key', entry(`${web}, refresh: 5m`), ['federation[0].refresh']],
    [
      'no trust domain',
      entry('bundleEndpointURL: "https://w/b", profile: https_web'),
      ['federation[0].trustDomain'],
    ],
    [
      'a trust domain with upper case',
      entry(web.replace('w.example', 'W.example')),
      ['federation[0].trustDomain'],
    ],
    [
      'a trust domain as a SPIFFE ID',
      entry(web.replace('w.example', '"spiffe://w.example"')),
      ['federation[0].trustDomain'],
    ],
    [
      'its own trust domain',
      entry(web.replace('w.example', 'hallmark.local')),
      ['federation[0].trustDomain'],
    ],
    [
      'an http URL',
      entry(web.replace('https://w.example/b', 'http://w.example/b')),
      ['federation[0].bundleEndpointURL'],
    ],
    [
      'a URL with a user',
      entry(web.replace('https://w.example/b', 'https://u:p@w.example/b')),
      ['federation[0].bundleEndpointURL'],
    ],
    [
      'no URL',
      entry('trustDomain: w.example, profile: https_web'),
      ['federation[0].bundleEndpointURL'],
    ],
    ['an unknown profile', entry(web.replace('https_web', 'https')), ['federation[0].profile']],
    [
      'no profile (never inferred)',
      entry('trustDomain: w.example, bundleEndpointURL: "https://w/b"'),
      ['federation[0].profile'],
    ],
    [
      'a pin on https_web',
      entry(`${web}, endpointSPIFFEID: "spiffe://w.example/s"`),
      ['federation[0].endpointSPIFFEID'],
    ],
    [
      'a bootstrap bundle on https_web',
      entry(`${web}, bootstrapBundle: "-----BEGIN CERTIFICATE-----"`),
      ['federation[0].bootstrapBundle'],
    ],
    [
      'https_spiffe without its SPIFFE ID and bundle',
      entry('trustDomain: b.example, bundleEndpointURL: "https://b/b", profile: https_spiffe'),
      ['federation[0].endpointSPIFFEID', 'federation[0].bootstrapBundle'],
    ],
  ])('refuses %s', (_name, text, paths) => {
    expect(problemPaths(text)).toEqual(paths);
  });

  it('refuses a pin in another trust domain, bootstrap bundles that are not CA certificates of it, duplicates', () => {
    const pinned = document().replace(
      'spiffe://b.example/hallmark/server',
      'spiffe://c.example/hallmark/server',
    );
    expect(problemPaths(pinned)).toEqual(['federation[0].endpointSPIFFEID']);
    expect(problemPaths(document(C.bundlePem))).toEqual(['federation[0].bootstrapBundle']);
    expect(problemPaths(document(B.serverCertPem))).toEqual(['federation[0].bootstrapBundle']);
    expect(problemPaths(document('not a bundle'))).toEqual(['federation[0].bootstrapBundle']);
    const twice = document(
      B.bundlePem,
      '  - trustDomain: w.example\n    bundleEndpointURL: https://other/td\n    profile: https_web\n',
    );
    expect(problemPaths(twice)).toEqual(['federation[2].trustDomain']);
  });

  it('refuses federatesWith naming a trust domain the list does not have, or twice; with lines', () => {
    const text = document().replace(
      '[b.example, w.example]',
      '[b.example, x.example, b.example, 7]',
    );
    const problems = problemsOf(() => compile(text));
    expect(problems.map((p) => p.path)).toEqual([
      'workloads[0].federatesWith[2]',
      'workloads[0].federatesWith[3]',
    ]);
    const unknown = document().replace('[b.example, w.example]', '[x.example]');
    const [problem] = problemsOf(() => compile(unknown));
    expect(problem).toMatchObject({ path: 'workloads[0].federatesWith[0]' });
    expect(problem!.line).toBe(unknown.split('\n').findIndex((l) => l.includes('x.example')) + 1);
  });
});
