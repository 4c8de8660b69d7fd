// Corpus: POST /v1/svid/jwt — no, rogue or stale client SVIDs, and audience lists out of bounds.
import { describe } from 'vitest';
import { rogueSvid } from './forged-credentials.js';
import { refusalCorpus, type RefusalCase } from './refusal.js';
import { POD, SECURITY_POLICY, type RawRequest, type SecurityStack } from './security-stack.js';

const JWT = '/v1/svid/jwt';

/** The workload's own mTLS client with `body` (JSON unless `raw`). */
const asWorkload = (fx: SecurityStack, body: Partial<RawRequest>): RawRequest => ({
  method: 'POST',
  path: JWT,
  dispatcher: fx.workload.mtls,
  ...body,
});

const audience = (name: string, value: unknown): RefusalCase => ({
  name: `audience ${name}`,
  request: (fx) => asWorkload(fx, { json: { audience: value } }),
  status: 400,
  code: 'ERR_JWTSVID_AUDIENCE_INVALID',
});

const CASES: RefusalCase[] = [
  {
    name: 'no client certificate',
    request: () => ({ method: 'POST', path: JWT, json: { audience: ['db'] } }),
    status: 401,
    code: 'ERR_AUTHN_CLIENT_CERT_REQUIRED',
  },
  {
    name: 'an access token instead of a client certificate',
    request: (fx) => ({
      method: 'POST',
      path: JWT,
      headers: { authorization: `Bearer ${fx.workload.token}` },
      json: { audience: ['db'] },
    }),
    status: 401,
    code: 'ERR_AUTHN_CLIENT_CERT_REQUIRED',
  },
  {
    name: 'an SVID from a root the attacker made',
    request: async (fx) => {
      const rogue = await rogueSvid('spiffe://hallmark.local/ns/payments/sa/api');
      return {
        method: 'POST',
        path: JWT,
        dispatcher: fx.mtlsAgent(rogue.cert, rogue.key),
        json: { audience: ['db'] },
      };
    },
    status: 401,
    code: 'ERR_AUTHN_CLIENT_CERT_INVALID',
  },
  {
    name: 'an SVID whose pod was deleted',
    request: async (fx) => {
      const { pod, svidPem, keyPem } = await fx.podWithSvid();
      fx.stack.k8s.deletePod(POD.namespace, pod);
      return {
        method: 'POST',
        path: JWT,
        dispatcher: fx.mtlsAgent(svidPem, keyPem),
        json: { audience: ['db'] },
      };
    },
    status: 403,
    code: 'ERR_AUTHN_POD_GONE',
  },
  {
    name: 'an SVID whose registration was removed from policy since',
    request: async (fx) => {
      const pod = 'jwt-worker';
      fx.stack.k8s.addPod({ namespace: POD.namespace, name: pod, serviceAccountName: 'worker' });
      const withWorker = SECURITY_POLICY.replace(
        'workloads:',
        'workloads:\n  - namespace: payments\n    serviceAccount: worker',
      );
      await fx.stack.server.policy.load(withWorker, 'corpus');
      const { svidPem, keyPem } = await fx.issueSvid(pod);
      await fx.stack.server.policy.load(SECURITY_POLICY, 'corpus');
      return {
        method: 'POST',
        path: JWT,
        dispatcher: fx.mtlsAgent(svidPem, keyPem),
        json: { audience: ['db'] },
      };
    },
    status: 403,
    code: 'ERR_AUTHN_WORKLOAD_NOT_REGISTERED',
  },
  audience('empty', []),
  audience(
    'of 17 entries',
    Array.from({ length: 17 }, (_, i) => `aud-${i}`),
  ),
  audience('with an empty entry', ['db', '']),
  audience('with an entry of 257 characters', ['a'.repeat(257)]),
  {
    name: 'audience with a lone surrogate',
    request: (fx) =>
      asWorkload(fx, {
        headers: { 'content-type': 'application/json' },
        raw: '{"audience":["db\\ud800"]}',
      }),
    status: 400,
    code: 'ERR_JWTSVID_AUDIENCE_INVALID',
  },
  {
    name: 'audience as a string, not a list',
    request: (fx) => asWorkload(fx, { json: { audience: 'db' } }),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'no audience',
    request: (fx) => asWorkload(fx, { json: {} }),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'an unknown field (sub)',
    request: (fx) =>
      asWorkload(fx, { json: { audience: ['db'], sub: 'spiffe://hallmark.local/admin' } }),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'a text/plain body',
    request: (fx) =>
      asWorkload(fx, { headers: { 'content-type': 'text/plain' }, raw: '{"audience":["db"]}' }),
    status: 415,
    code: 'ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a 16 KiB + 1 body',
    request: (fx) => asWorkload(fx, { json: { audience: ['x'.repeat(16_384)] } }),
    status: 413,
    code: 'ERR_REQUEST_TOO_LARGE',
  },
];

describe('bad-input corpus: POST /v1/svid/jwt', () => {
  const corpus = refusalCorpus();

  corpus.refuses(CASES);
});
