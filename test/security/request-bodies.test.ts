// Corpus: request bodies on every JSON route — wrong content types, malformed JSON, prototype
// keys, unknown fields and oversized bodies.
import { describe } from 'vitest';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import { refusalCorpus, type RefusalCase } from './refusal.js';
import { type RawRequest, type SecurityStack } from './security-stack.js';

const CSR = buildCsr(generateKeyPair('ec-p256'));
const MIB = 1024 * 1024;

/** The JSON routes, each with the credentials it needs (so only the body can be wrong). */
type Route = 'apikey' | 'login' | 'svid' | 'batch' | 'put';
const ROUTES: Record<Route, (fx: SecurityStack) => Promise<Omit<RawRequest, 'raw' | 'json'>>> = {
  apikey: async () => ({ method: 'POST', path: '/v1/authn/apikey' }),
  login: async (fx) => ({ method: 'POST', path: '/v1/authn/login', dispatcher: fx.workload.mtls }),
  svid: async (fx) => ({
    method: 'POST',
    path: '/v1/svid/x509',
    headers: { authorization: `Bearer ${await fx.projectedToken()}` },
  }),
  batch: async (fx) => ({
    method: 'POST',
    path: '/v1/secrets/batch',
    headers: { authorization: `Bearer ${fx.workload.token}` },
  }),
  put: async (fx) => ({
    method: 'PUT',
    path: '/v1/secrets/payments/db-password',
    headers: { authorization: `Bearer ${fx.adminToken}` },
  }),
};

/** A valid body per route, to be spoiled by one change. */
const VALID: Record<Route, (fx: SecurityStack) => Record<string, unknown>> = {
  apikey: (fx) => ({ id: 'admin', api_key: fx.adminKey }),
  login: () => ({}),
  svid: () => ({ csr: CSR }),
  batch: () => ({ paths: ['payments/db-password'] }),
  put: () => ({ value: 'overwritten' }),
};

/** `route` with `body` sent raw under `contentType` (undefined: no content-type header). */
const rawBody = (
  name: string,
  route: Route,
  contentType: string | undefined,
  body: (fx: SecurityStack) => string,
  status: number,
  code: RefusalCase['code'],
): RefusalCase => ({
  name: `${route}: ${name}`,
  request: async (fx) => {
    const base = await ROUTES[route](fx);
    return {
      ...base,
      headers: {
        ...base.headers,
        ...(contentType === undefined ? {} : { 'content-type': contentType }),
      },
      raw: body(fx),
    };
  },
  status,
  code,
});

const asJson = (route: Route) => (fx: SecurityStack) => JSON.stringify(VALID[route](fx));
const withExtra = (route: Route, extra: Record<string, unknown>) => (fx: SecurityStack) =>
  JSON.stringify({ ...VALID[route](fx), ...extra });

const INVALID = 'ERR_REQUEST_INVALID';
const MEDIA = 'ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE';
const LARGE = 'ERR_REQUEST_TOO_LARGE';
const JSON_TYPE = 'application/json';

const CASES: RefusalCase[] = [
  // Wrong content types: the body would be valid JSON.
  rawBody('text/plain', 'apikey', 'text/plain', asJson('apikey'), 415, MEDIA),
  rawBody(
    'form-urlencoded',
    'apikey',
    'application/x-www-form-urlencoded',
    (fx) => `id=admin&api_key=${fx.adminKey}`,
    415,
    MEDIA,
  ),
  rawBody(
    'multipart/form-data',
    'apikey',
    'multipart/form-data; boundary=x',
    () => '--x\r\n\r\n--x--',
    415,
    MEDIA,
  ),
  rawBody('no content-type at all', 'apikey', undefined, asJson('apikey'), 415, MEDIA),
  rawBody('application/xml', 'svid', 'application/xml', () => `<csr>${CSR}</csr>`, 415, MEDIA),
  rawBody(
    'application/yaml (a policy type elsewhere)',
    'put',
    'application/yaml',
    () => 'value: overwritten',
    415,
    MEDIA,
  ),
  rawBody('text/plain', 'batch', 'text/plain', asJson('batch'), 415, MEDIA),
  rawBody('text/plain', 'login', 'text/plain', () => '{}', 415, MEDIA),
  // Malformed JSON.
  rawBody('truncated JSON', 'apikey', JSON_TYPE, () => '{"id": "admin", "api_key": ', 400, INVALID),
  rawBody('an empty body', 'apikey', JSON_TYPE, () => '', 400, INVALID),
  rawBody('JSON null', 'apikey', JSON_TYPE, () => 'null', 400, INVALID),
  rawBody('a JSON array', 'apikey', JSON_TYPE, (fx) => `[${asJson('apikey')(fx)}]`, 400, INVALID),
  rawBody('single quotes', 'svid', JSON_TYPE, () => "{'csr': 'x'}", 400, INVALID),
  rawBody('trailing garbage', 'batch', JSON_TYPE, (fx) => `${asJson('batch')(fx)}}`, 400, INVALID),
  rawBody('a NaN literal', 'put', JSON_TYPE, () => '{"value": NaN}', 400, INVALID),
  rawBody('malformed JSON', 'login', JSON_TYPE, () => '{', 400, INVALID),
  // Prototype poisoning keys.
  rawBody(
    'a __proto__ key',
    'apikey',
    JSON_TYPE,
    (fx) => `{"id":"admin","api_key":"${fx.adminKey}","__proto__":{"admin":true}}`,
    400,
    INVALID,
  ),
  rawBody(
    'a constructor.prototype key',
    'batch',
    JSON_TYPE,
    () => '{"paths":["payments/db-password"],"constructor":{"prototype":{"admin":true}}}',
    400,
    INVALID,
  ),
  // Unknown fields: valid bodies plus one field the route does not define.
  rawBody(
    'an unknown field (role)',
    'apikey',
    JSON_TYPE,
    withExtra('apikey', { role: 'admin' }),
    400,
    INVALID,
  ),
  rawBody(
    'an unknown field (spiffe_id)',
    'svid',
    JSON_TYPE,
    withExtra('svid', { spiffe_id: 'spiffe://hallmark.local/admin' }),
    400,
    INVALID,
  ),
  rawBody(
    'an unknown field (ttl)',
    'svid',
    JSON_TYPE,
    withExtra('svid', { ttl: '8760h' }),
    400,
    INVALID,
  ),
  rawBody(
    'an unknown field (spiffe_id)',
    'login',
    JSON_TYPE,
    withExtra('login', { spiffe_id: 'spiffe://hallmark.local/admin' }),
    400,
    INVALID,
  ),
  rawBody(
    'an unknown field (all)',
    'batch',
    JSON_TYPE,
    withExtra('batch', { all: true }),
    400,
    INVALID,
  ),
  rawBody(
    'an unknown field (version)',
    'put',
    JSON_TYPE,
    withExtra('put', { version: 1 }),
    400,
    INVALID,
  ),
  rawBody('a missing field', 'apikey', JSON_TYPE, () => '{"id":"admin"}', 400, INVALID),
  // Oversized bodies.
  rawBody(
    '1 MiB + 1 byte',
    'apikey',
    JSON_TYPE,
    () => `{"id":"admin","api_key":"${'k'.repeat(MIB)}"}`,
    413,
    LARGE,
  ),
  rawBody(
    '256 KiB + 1 byte',
    'batch',
    JSON_TYPE,
    () => `{"paths":["${'a'.repeat(256 * 1024)}"]}`,
    413,
    LARGE,
  ),
  rawBody(
    'over the value body limit',
    'put',
    JSON_TYPE,
    () => `{"value":"${'v'.repeat(65_536 * 6 + 1024)}"}`,
    413,
    LARGE,
  ),
  rawBody('1 MiB + 1 byte', 'login', JSON_TYPE, () => `{"pad":"${'p'.repeat(MIB)}"}`, 413, LARGE),
];

describe('bad-input corpus: request bodies', () => {
  const corpus = refusalCorpus();

  corpus.refuses(CASES);
});
