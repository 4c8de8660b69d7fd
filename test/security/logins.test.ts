// Corpus: the two ways to get an access token — API-key login and mTLS login — refused.
import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { rogueSvid } from './forged-credentials.js';
import { refusalCorpus, type RefusalCase } from './refusal.js';
import { POD, SECURITY_POLICY, type RawRequest, type SecurityStack } from './security-stack.js';

const apikey = (id: string, key: string): RawRequest => ({
  method: 'POST',
  path: '/v1/authn/apikey',
  json: { id, api_key: key },
});

const keyCase = (
  name: string,
  body: (fx: SecurityStack) => RawRequest | Promise<RawRequest>,
  status = 401,
  code: RefusalCase['code'] = 'ERR_AUTHN_API_KEY_INVALID',
): RefusalCase => ({ name: `API key: ${name}`, request: body, status, code });

let counter = 0;
const fresh = (prefix: string): string =>
  `${prefix}-${++counter}-${randomBytes(3).toString('hex')}`;

/** A login over mTLS with an SVID of a fresh pod that `change` then deletes or replaces. */
const goneCase = (name: string, change: (fx: SecurityStack, pod: string) => void): RefusalCase => ({
  name: `mTLS: ${name}`,
  request: async (fx) => {
    const { pod, svidPem, keyPem } = await fx.podWithSvid();
    change(fx, pod);
    return { method: 'POST', path: '/v1/authn/login', dispatcher: fx.mtlsAgent(svidPem, keyPem) };
  },
  status: 403,
  code: 'ERR_AUTHN_POD_GONE',
});

const CASES: RefusalCase[] = [
  keyCase('the admin id with a wrong key', (fx) =>
    apikey('admin', `${fx.adminKey.slice(0, -4)}AAAA`),
  ),
  keyCase("the admin id with the app's key", (fx) => apikey('admin', fx.appKey)),
  keyCase('the admin id with a prefix of its key', (fx) =>
    apikey('admin', fx.adminKey.slice(0, 20)),
  ),
  keyCase('the admin key with a trailing newline', (fx) => apikey('admin', `${fx.adminKey}\n`)),
  keyCase('the admin key under the app id', (fx) => apikey('app-reader', fx.adminKey)),
  keyCase('an unknown id', (fx) => apikey('nobody', fx.adminKey)),
  keyCase('an id with control characters', (fx) => apikey('admin\u0000\r\n', fx.adminKey)),
  keyCase('an id that differs only in case', (fx) => apikey('ADMIN', fx.adminKey)),
  keyCase('a revoked key', async (fx) => {
    const id = fresh('revoked');
    const key = await fx.stack.server.authn.createApiKey({ id, role: 'app' });
    await fx.stack.server.authn.revokeApiKey(id, 'corpus');
    return apikey(id, key);
  }),
  keyCase(
    'an id of 257 characters',
    (fx) => apikey('a'.repeat(257), fx.adminKey),
    400,
    'ERR_REQUEST_INVALID',
  ),
  keyCase(
    'a key of 513 characters',
    () => apikey('admin', 'k'.repeat(513)),
    400,
    'ERR_REQUEST_INVALID',
  ),
  keyCase('an empty id', (fx) => apikey('', fx.adminKey), 400, 'ERR_REQUEST_INVALID'),
  keyCase(
    'a numeric key',
    () => ({ method: 'POST', path: '/v1/authn/apikey', json: { id: 'admin', api_key: 42 } }),
    400,
    'ERR_REQUEST_INVALID',
  ),
  {
    name: 'mTLS: no client certificate',
    request: () => ({ method: 'POST', path: '/v1/authn/login' }),
    status: 401,
    code: 'ERR_AUTHN_CLIENT_CERT_REQUIRED',
  },
  {
    name: 'mTLS: an SVID for the same SPIFFE ID from a root the attacker made',
    request: async (fx) => {
      const rogue = await rogueSvid('spiffe://hallmark.local/ns/payments/sa/api');
      return {
        method: 'POST',
        path: '/v1/authn/login',
        dispatcher: fx.mtlsAgent(rogue.cert, rogue.key),
      };
    },
    status: 401,
    code: 'ERR_AUTHN_CLIENT_CERT_INVALID',
  },
  {
    name: 'mTLS: a rogue SVID for the admin-looking ID',
    request: async (fx) => {
      const rogue = await rogueSvid('spiffe://hallmark.local/admin');
      return {
        method: 'POST',
        path: '/v1/authn/login',
        dispatcher: fx.mtlsAgent(rogue.cert, rogue.key),
      };
    },
    status: 401,
    code: 'ERR_AUTHN_CLIENT_CERT_INVALID',
  },
  goneCase('an SVID whose pod was deleted', (fx, pod) =>
    fx.stack.k8s.deletePod(POD.namespace, pod),
  ),
  goneCase('an SVID whose pod was recreated (another pod now)', (fx, pod) => {
    fx.stack.k8s.recreatePod(POD.namespace, pod);
  }),
  {
    name: 'mTLS: an SVID whose registration was removed from policy since',
    request: async (fx) => {
      const pod = fresh('worker');
      fx.stack.k8s.addPod({ namespace: POD.namespace, name: pod, serviceAccountName: 'worker' });
      const worker = `${SECURITY_POLICY.replace('workloads:', 'workloads:\n  - namespace: payments\n    serviceAccount: worker')}`;
      await fx.stack.server.policy.load(worker, 'corpus');
      const { svidPem, keyPem } = await fx.issueSvid(pod);
      await fx.stack.server.policy.load(SECURITY_POLICY, 'corpus');
      return { method: 'POST', path: '/v1/authn/login', dispatcher: fx.mtlsAgent(svidPem, keyPem) };
    },
    status: 403,
    code: 'ERR_AUTHN_WORKLOAD_NOT_REGISTERED',
  },
];

describe('bad-input corpus: API-key and mTLS login', () => {
  const corpus = refusalCorpus();

  corpus.refuses(CASES);
});
