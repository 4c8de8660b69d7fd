// Secret access: groups, exact IDs, ID patterns, path prefixes, read vs write, default deny, extra grants.
import { describe, expect, it } from 'vitest';
import {
  EMPTY_GRANTS,
  canAccess,
  compileGrants,
  emptyPolicy,
  type GrantAction,
} from '../../src/policy/index.js';
import { parseSecretPath } from '../../src/secrets/index.js';
import { OPTIONS, compile, fixture, problemsOf } from './policy-test-helpers.js';
import { codeOf } from '../helpers/error-code.js';

const TD = 'spiffe://hallmark.local';
const API = `${TD}/ns/payments/sa/api`;
const WEB = `${TD}/ns/payments/sa/web`;
const SHOP = `${TD}/ns/shop/sa/cart`;

const POLICY = compile(`
groups:
  payments-readers: [${API}, ${WEB}]
  auditors: ["key:auditor", "${TD}/ns/audit/*"]
grants:
  - to: payments-readers
    read: [payments/*]
  - to: ${API}
    write: [payments/api/*, payments/shared]
    read: [payments]
  - to: "${TD}/ns/shop/*"
    read: [shop/*, common/banner]
  - to: [auditors]
    read: ["*"]
  - to: "key:deployer"
    write: [deploy/*]
  - to: "${TD}/*"
    read: [public/*]
`);

describe('canAccess table', () => {
  it.each<[string, string, GrantAction, string, boolean]>([
    // through a group
    ['group member reads below the prefix', API, 'read', 'payments/db', true],
    ['group member reads deep below the prefix', WEB, 'read', 'payments/a/b/c', true],
    ['prefix does not match the prefix itself', WEB, 'read', 'payments', false],
    ['prefix does not match a longer sibling', WEB, 'read', 'paymentsx/a', false],
    ['prefix does not match a shorter name', WEB, 'read', 'payment/a', false],
    ['prefix is case-sensitive', WEB, 'read', 'Payments/db', false],
    ['read does not give write', WEB, 'write', 'payments/db', false],
    // exact identity, merged with its group grants
    ['exact path matches exactly', API, 'read', 'payments', true],
    ['exact write path', API, 'write', 'payments/shared', true],
    ['exact path does not cover children', API, 'write', 'payments/shared/x', false],
    ['write prefix', API, 'write', 'payments/api/token', true],
    ['write prefix is not the prefix itself', API, 'write', 'payments/api', false],
    ['write does not give read outside read grants', API, 'read', 'deploy/x', false],
    ['write on a path does not give read of a sibling', API, 'write', 'payments/db', false],
    // SPIFFE ID patterns
    ['ID below a pattern', SHOP, 'read', 'shop/items', true],
    ['ID deep below a pattern', `${TD}/ns/shop/sa/cart/v2`, 'read', 'common/banner', true],
    ['the pattern ID itself is not below it', `${TD}/ns/shop`, 'read', 'shop/items', false],
    [
      'a sibling with a longer name is not below',
      `${TD}/ns/shopx/sa/cart`,
      'read',
      'shop/items',
      false,
    ],
    ['pattern in another branch', `${TD}/ns/shopping/sa/a`, 'read', 'shop/items', false],
    ['trust-domain-wide pattern', `${TD}/anything`, 'read', 'public/motd', true],
    ['trust-domain-wide pattern, other path', `${TD}/anything`, 'read', 'shop/items', false],
    ['trust domain ID itself is not below it', TD, 'read', 'public/motd', false],
    [
      'other trust domain never matches',
      'spiffe://example.org/ns/shop/sa/cart',
      'read',
      'shop/items',
      false,
    ],
    // groups holding patterns and keys; the * path
    ['group pattern member, star path', `${TD}/ns/audit/sa/x`, 'read', 'payments/db', true],
    ['star is read only', `${TD}/ns/audit/sa/x`, 'write', 'payments/db', false],
    ['key identity via group', 'key:auditor', 'read', 'a', true],
    ['key identity directly', 'key:deployer', 'write', 'deploy/app/token', true],
    ['key identity, no read', 'key:deployer', 'read', 'deploy/app/token', false],
    ['key identities do not match SPIFFE patterns', 'key:anything', 'read', 'public/motd', false],
    ['unknown key', 'key:nobody', 'read', 'public/motd', false],
    // default deny and bad input
    [
      'unknown SPIFFE ID outside every pattern',
      'spiffe://hallmark.local',
      'read',
      'payments/db',
      false,
    ],
    ['group name is not an identity', 'payments-readers', 'read', 'payments/db', false],
    ['empty identity', '', 'read', 'payments/db', false],
  ])('%s', (_name, identity, action, path, expected) => {
    expect(canAccess(POLICY, identity, action, parseSecretPath(path))).toBe(expected);
  });

  // canAccess takes a parsed SecretPath, so these never reach it: a traversal cannot slip under
  // `payments/*`, because no SecretPath spells one.
  it.each([
    ['traversal under a granted prefix', 'payments/../deploy/x'],
    ['encoded traversal', 'payments/%2e%2e/x'],
    ['double slash', 'payments//db'],
    ['trailing slash', 'payments/db/'],
    ['empty path', ''],
    ['a star (a wildcard only in grants)', 'payments/*'],
  ])('a %s is no SecretPath, so never asked about', (_name, path) => {
    expect(codeOf(() => parseSecretPath(path))).toBe('ERR_SECRET_BAD_PATH');
  });

  it('denies an action that is neither read nor write', () => {
    expect(canAccess(POLICY, 'key:auditor', 'delete' as GrantAction, parseSecretPath('a'))).toBe(
      false,
    );
  });

  it('denies everything under the empty policy', () => {
    const policy = emptyPolicy(OPTIONS);
    expect(canAccess(policy, API, 'read', parseSecretPath('payments/db'))).toBe(false);
    expect(canAccess(policy, 'key:admin', 'write', parseSecretPath('a'))).toBe(false);
  });

  it('follows the docs/policy.md example', () => {
    const policy = compile(fixture('example.yaml'));
    expect(
      canAccess(policy, `${TD}/ns/payments/jobs/nightly`, 'read', parseSecretPath('payments/db')),
    ).toBe(true);
    expect(canAccess(policy, API, 'write', parseSecretPath('payments/api/session-key'))).toBe(true);
    expect(canAccess(policy, API, 'write', parseSecretPath('payments/db'))).toBe(false);
    expect(canAccess(policy, 'key:admin', 'write', parseSecretPath('anything/at/all'))).toBe(true);
    expect(canAccess(policy, `${TD}/ops/deployer`, 'read', parseSecretPath('payments/db'))).toBe(
      true,
    );
    expect(canAccess(policy, SHOP, 'read', parseSecretPath('payments/db'))).toBe(false);
  });
});

describe('extra grants (broker bindings)', () => {
  const BINDINGS = compileGrants(
    [
      { to: 'key:binding-1', read: ['osb/instance-1/*'] },
      { to: [SHOP], read: ['osb/instance-2/*'] },
      { to: `${TD}/ns/batch/*`, read: ['osb/instance-3/*'], write: ['osb/instance-3/out'] },
    ],
    { trustDomain: 'hallmark.local' },
  );

  it.each<[string, GrantAction, string, boolean]>([
    ['key:binding-1', 'read', 'osb/instance-1/credentials', true],
    ['key:binding-1', 'read', 'osb/instance-2/credentials', false],
    ['key:binding-1', 'read', 'osb/instance-1', false],
    ['key:binding-1', 'write', 'osb/instance-1/credentials', false],
    [SHOP, 'read', 'osb/instance-2/credentials', true],
    [SHOP, 'read', 'shop/items', true], // still allowed by the policy itself
    [`${TD}/ns/batch/sa/job`, 'write', 'osb/instance-3/out', true],
    [`${TD}/ns/batch/sa/job`, 'read', 'osb/instance-3/in', true],
    [API, 'read', 'osb/instance-1/credentials', false],
  ])('%s %s %s → %s', (identity, action, path, expected) => {
    expect(canAccess(POLICY, identity, action, parseSecretPath(path), BINDINGS)).toBe(expected);
  });

  it('adds nothing without the extra grants, or with none', () => {
    expect(
      canAccess(POLICY, 'key:binding-1', 'read', parseSecretPath('osb/instance-1/credentials')),
    ).toBe(false);
    expect(
      canAccess(
        POLICY,
        'key:binding-1',
        'read',
        parseSecretPath('osb/instance-1/credentials'),
        EMPTY_GRANTS,
      ),
    ).toBe(false);
  });

  it('merges several grants to one identity', () => {
    const merged = compileGrants(
      [
        { to: 'key:b', read: ['a/*'] },
        { to: 'key:b', read: ['b/x'] },
      ],
      { trustDomain: 'hallmark.local' },
    );
    const policy = emptyPolicy(OPTIONS);
    expect(canAccess(policy, 'key:b', 'read', parseSecretPath('a/1'), merged)).toBe(true);
    expect(canAccess(policy, 'key:b', 'read', parseSecretPath('b/x'), merged)).toBe(true);
    expect(canAccess(policy, 'key:b', 'read', parseSecretPath('c/x'), merged)).toBe(false);
  });

  it('validates extra grants like document grants, listing every problem', () => {
    const problems = problemsOf(() =>
      compileGrants(
        [
          { to: 'readers', read: ['a/*'] },
          { to: 'spiffe://example.org/x', read: ['../x'] },
          { to: 'key:ok', read: [] },
        ],
        { trustDomain: 'hallmark.local' },
      ),
    );
    expect(problems.map((p) => p.path)).toEqual(['[0].to', '[1].to', '[1].read[0]', '[2]']);
  });

  it('refuses a bad trust domain option with its own code', () => {
    expect(codeOf(() => compileGrants([], { trustDomain: 'NOT A TD' }))).toBe(
      'ERR_SPIFFE_TRUST_DOMAIN_INVALID',
    );
  });
});
