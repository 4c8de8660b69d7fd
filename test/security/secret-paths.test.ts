// Corpus: secret paths (traversal in every spelling, oversized), queries, batches, values and grants.
import { describe } from 'vitest';
import { refusalCorpus, type RefusalCase } from './refusal.js';
import { type RawRequest, type SecurityStack } from './security-stack.js';

type Caller = 'admin' | 'app' | 'workload';

const tokenOf = (fx: SecurityStack, caller: Caller): string =>
  caller === 'admin' ? fx.adminToken : caller === 'app' ? fx.appToken : fx.workload.token;

const auth = (fx: SecurityStack, caller: Caller): Record<string, string> => ({
  authorization: `Bearer ${tokenOf(fx, caller)}`,
});

/**
 * The admin may read and write every valid path, so a path refused for the admin is refused
 * for what it is, not for lack of a grant. Each traversal aims at the existing secret.
 */
const read = (
  name: string,
  path: string,
  code: RefusalCase['code'],
  status = 400,
): RefusalCase => ({
  name: `GET ${name}`,
  request: (fx): RawRequest => ({ method: 'GET', path, headers: auth(fx, 'admin') }),
  status,
  code,
});

const write = (name: string, path: string, value = 'overwritten'): RefusalCase => ({
  name: `PUT ${name}`,
  request: (fx): RawRequest => ({
    method: 'PUT',
    path,
    headers: auth(fx, 'admin'),
    json: { value },
  }),
  status: 400,
  code: 'ERR_SECRET_BAD_PATH',
});

const batch = (
  name: string,
  paths: unknown,
  code: RefusalCase['code'],
  caller: Caller = 'admin',
  status = 400,
): RefusalCase => ({
  name: `batch ${name}`,
  request: (fx): RawRequest => ({
    method: 'POST',
    path: '/v1/secrets/batch',
    headers: auth(fx, caller),
    json: { paths },
  }),
  status,
  code,
});

const LONG_PATH = `payments/${'a'.repeat(504)}`; // 513 bytes: one over the limit
const HUGE_PATH = `payments/${'a/'.repeat(4096)}x`;
const BAD = 'ERR_SECRET_BAD_PATH';
const INVALID = 'ERR_REQUEST_INVALID';

const CASES: RefusalCase[] = [
  read('traversal with raw dot segments', '/v1/secrets/billing/../payments/db-password', BAD),
  read('traversal with %2e%2e', '/v1/secrets/billing/%2e%2e/payments/db-password', BAD),
  read(
    'traversal with %2E%2E (upper case)',
    '/v1/secrets/billing/%2E%2E/payments/db-password',
    BAD,
  ),
  read(
    'traversal with %2F-encoded slashes',
    '/v1/secrets/billing%2F..%2Fpayments%2Fdb-password',
    BAD,
  ),
  read(
    'double-encoded traversal %252e%252e',
    '/v1/secrets/billing/%252e%252e/payments/db-password',
    BAD,
  ),
  read('climbing out of the store', '/v1/secrets/%2e%2e/%2e%2e/%2e%2e/etc/passwd', BAD),
  read('a single-dot segment', '/v1/secrets/payments/./db-password', BAD),
  read('an empty segment', '/v1/secrets/payments//db-password', BAD),
  read('a leading slash', '/v1/secrets//payments/db-password', BAD),
  read('a trailing slash', '/v1/secrets/payments/db-password/', BAD),
  read('an encoded NUL', '/v1/secrets/payments/db-password%00', BAD),
  read('backslash traversal', '/v1/secrets/payments\\..\\db-password', BAD),
  read('a non-ASCII segment', '/v1/secrets/payments/d%C3%A9', BAD),
  read('a percent-encoded valid character', '/v1/secrets/%70ayments/db-password', BAD),
  read('a percent-encoded route prefix', '/v1/%73ecrets/payments/db-password', BAD),
  read('a malformed percent-escape (the router refuses it)', '/v1/secrets/payments/%ZZ', INVALID),
  read('an empty path', '/v1/secrets/', BAD),
  read('a path of 513 bytes', `/v1/secrets/${LONG_PATH}`, BAD),
  read('a path of 8 KiB', `/v1/secrets/${HUGE_PATH}`, BAD),
  read('?version=0', '/v1/secrets/payments/db-password?version=0', INVALID),
  read('?version=-1', '/v1/secrets/payments/db-password?version=-1', INVALID),
  read('?version=1e3', '/v1/secrets/payments/db-password?version=1e3', INVALID),
  read('?version beyond int4', '/v1/secrets/payments/db-password?version=99999999999', INVALID),
  read('?version given twice', '/v1/secrets/payments/db-password?version=1&version=2', INVALID),
  read('an unknown query parameter', '/v1/secrets/payments/db-password?admin=true', INVALID),
  read(
    'a version that does not exist',
    '/v1/secrets/payments/db-password?version=9',
    'ERR_SECRET_NOT_FOUND',
    404,
  ),
  write('traversal onto an existing secret', '/v1/secrets/x/../payments/db-password'),
  write('an encoded slash onto an existing secret', '/v1/secrets/payments%2Fdb-password'),
  write('a bare ..', '/v1/secrets/..'),
  write('a path of 513 bytes', `/v1/secrets/${LONG_PATH}`),
  batch('with a traversal', ['billing/../payments/db-password'], BAD),
  batch('with one bad path after a good one', ['payments/db-password', '../x'], BAD),
  batch('with a 513-byte path', [LONG_PATH], BAD),
  batch(
    'of 501 paths',
    Array.from({ length: 501 }, (_, i) => `payments/p${i}`),
    INVALID,
  ),
  batch('of no paths', [], INVALID),
  batch('with a duplicate path', ['payments/db-password', 'payments/db-password'], INVALID),
  batch('with a non-string path', [1], INVALID),
  batch(
    'naming a path without a grant',
    ['payments/db-password', 'billing/x'],
    'ERR_POLICY_DENIED',
    'app',
    403,
  ),
  {
    name: 'GET by a workload outside its grant',
    request: (fx) => ({
      method: 'GET',
      path: '/v1/secrets/billing/db-password',
      headers: auth(fx, 'workload'),
    }),
    status: 403,
    code: 'ERR_POLICY_DENIED',
  },
  {
    name: 'PUT by a workload that may only read',
    request: (fx) => ({
      method: 'PUT',
      path: '/v1/secrets/payments/db-password',
      headers: auth(fx, 'workload'),
      json: { value: 'overwritten' },
    }),
    status: 403,
    code: 'ERR_POLICY_DENIED',
  },
  {
    name: 'GET of a missing secret inside the grant',
    request: (fx) => ({
      method: 'GET',
      path: '/v1/secrets/payments/missing',
      headers: auth(fx, 'workload'),
    }),
    status: 404,
    code: 'ERR_SECRET_NOT_FOUND',
  },
  {
    name: 'PUT of a value one byte over HALLMARK_SECRET_MAX_BYTES',
    request: (fx) => ({
      method: 'PUT',
      path: '/v1/secrets/payments/db-password',
      headers: auth(fx, 'admin'),
      json: { value: 'x'.repeat(65_537) },
    }),
    status: 413,
    code: 'ERR_SECRET_TOO_LARGE',
  },
  {
    name: 'PUT of a value with a lone surrogate',
    request: (fx) => ({
      method: 'PUT',
      path: '/v1/secrets/payments/db-password',
      headers: { ...auth(fx, 'admin'), 'content-type': 'application/json' },
      raw: '{"value":"abc\\ud800def"}',
    }),
    status: 400,
    code: 'ERR_SECRET_BAD_VALUE',
  },
  {
    name: 'PUT of a non-string value',
    request: (fx) => ({
      method: 'PUT',
      path: '/v1/secrets/payments/db-password',
      headers: auth(fx, 'admin'),
      json: { value: { nested: true } },
    }),
    status: 400,
    code: INVALID,
  },
];

describe('bad-input corpus: secret paths, queries, batches and values', () => {
  const corpus = refusalCorpus();

  corpus.refuses(CASES);
});
