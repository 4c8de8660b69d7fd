// Corpus: projected-token abuse on POST /v1/svid/x509 (forged, expired, unbound, other and gone pods).
import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import { refusalCorpus, type RefusalCase } from './refusal.js';
import { POD, type RawRequest, type SecurityStack } from './security-stack.js';

const CSR = buildCsr(generateKeyPair('ec-p256'));

/** A pod of its own per case, so one case's deletions never touch another's. */
function newPod(fx: SecurityStack, serviceAccountName: string = POD.serviceAccount): string {
  const name = `p-${randomBytes(4).toString('hex')}`;
  fx.stack.k8s.addPod({ namespace: POD.namespace, name, serviceAccountName });
  return name;
}

function svidRequest(authorization: string | undefined): RawRequest {
  return {
    method: 'POST',
    path: '/v1/svid/x509',
    headers: authorization === undefined ? {} : { authorization },
    json: { csr: CSR },
  };
}

const bearer = (token: string): RawRequest => svidRequest(`Bearer ${token}`);

/** A token for a fresh pod that has already been reviewed once (and so is in the API's cache). */
async function reviewedToken(fx: SecurityStack): Promise<{ pod: string; token: string }> {
  const pod = newPod(fx);
  const token = await fx.stack.k8s.issueToken({ namespace: POD.namespace, podName: pod });
  const first = await fx.send(bearer(token));
  if (first.status !== 200) throw new Error(`setup issuance failed: ${first.status}`);
  return { pod, token };
}

const CASES: RefusalCase[] = [
  {
    name: 'no Authorization header',
    request: () => svidRequest(undefined),
    status: 401,
    code: 'ERR_ATTEST_TOKEN_MISSING',
  },
  {
    name: 'Basic instead of Bearer',
    request: () => svidRequest(`Basic ${Buffer.from('admin:admin').toString('base64')}`),
    status: 401,
    code: 'ERR_ATTEST_TOKEN_MISSING',
  },
  {
    name: 'a bare "Bearer" with no token',
    request: () => svidRequest('Bearer'),
    status: 401,
    code: 'ERR_ATTEST_TOKEN_MISSING',
  },
  {
    name: 'characters no JWS can contain',
    request: () => svidRequest('Bearer not a token!'),
    status: 403,
    code: 'ERR_ATTEST_TOKEN_INVALID',
  },
  {
    name: 'random base64url garbage',
    request: (fx) => bearer(fx.stack.k8s.garbageToken()),
    status: 403,
    code: 'ERR_ATTEST_TOKEN_INVALID',
  },
  {
    name: 'a 12 KiB token of JWS characters',
    request: () => bearer(`${'a'.repeat(6000)}.${'b'.repeat(6000)}.${'c'.repeat(300)}`),
    status: 403,
    code: 'ERR_ATTEST_TOKEN_INVALID',
  },
  {
    name: 'forged: signed by a key Kubernetes does not trust',
    request: async (fx) =>
      bearer(
        await fx.stack.k8s.issueToken({
          namespace: POD.namespace,
          podName: POD.name,
          untrustedKey: true,
        }),
      ),
    status: 403,
    code: 'ERR_ATTEST_TOKEN_INVALID',
  },
  {
    name: 'forged: alg none with the signature stripped',
    request: async (fx) => {
      const [, payload] = (await fx.projectedToken()).split('.');
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      return bearer(`${header}.${payload}.`);
    },
    status: 403,
    code: 'ERR_ATTEST_TOKEN_INVALID',
  },
  {
    name: 'tampered: payload edited to another namespace',
    request: async (fx) => {
      const [header, payload, signature] = (await fx.projectedToken()).split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as {
        sub: string;
      };
      claims.sub = 'system:serviceaccount:kube-system:admin';
      const edited = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return bearer(`${header}.${edited}.${signature}`);
    },
    status: 403,
    code: 'ERR_ATTEST_TOKEN_INVALID',
  },
  {
    name: 'expired',
    request: async (fx) =>
      bearer(
        await fx.stack.k8s.issueToken({
          namespace: POD.namespace,
          podName: POD.name,
          expired: true,
        }),
      ),
    status: 403,
    code: 'ERR_ATTEST_TOKEN_INVALID',
  },
  {
    name: 'wrong audience (vault)',
    request: async (fx) =>
      bearer(
        await fx.stack.k8s.issueToken({
          namespace: POD.namespace,
          podName: POD.name,
          audiences: ['vault'],
        }),
      ),
    status: 403,
    code: 'ERR_ATTEST_AUDIENCE_MISMATCH',
  },
  {
    name: "wrong audience (the API server's own)",
    request: async (fx) =>
      bearer(
        await fx.stack.k8s.issueToken({
          namespace: POD.namespace,
          podName: POD.name,
          audiences: ['https://kubernetes.default.svc.cluster.local'],
        }),
      ),
    status: 403,
    code: 'ERR_ATTEST_AUDIENCE_MISMATCH',
  },
  {
    name: 'unbound: a plain ServiceAccount token with no pod',
    request: async (fx) =>
      bearer(
        await fx.stack.k8s.issueToken({
          namespace: POD.namespace,
          serviceAccount: POD.serviceAccount,
        }),
      ),
    status: 403,
    code: 'ERR_ATTEST_TOKEN_NOT_POD_BOUND',
  },
  {
    name: 'deleted pod, token never reviewed (Kubernetes refuses it)',
    request: async (fx) => {
      const pod = newPod(fx);
      const token = await fx.stack.k8s.issueToken({ namespace: POD.namespace, podName: pod });
      fx.stack.k8s.deletePod(POD.namespace, pod);
      return bearer(token);
    },
    status: 403,
    code: 'ERR_ATTEST_TOKEN_INVALID',
  },
  {
    name: 'deleted pod, token still in the review cache',
    request: async (fx) => {
      const { pod, token } = await reviewedToken(fx);
      fx.stack.k8s.deletePod(POD.namespace, pod);
      return bearer(token);
    },
    status: 403,
    code: 'ERR_ATTEST_POD_NOT_FOUND',
  },
  {
    name: 'other pod: recreated under the same name, token in the review cache',
    request: async (fx) => {
      const { pod, token } = await reviewedToken(fx);
      fx.stack.k8s.recreatePod(POD.namespace, pod);
      return bearer(token);
    },
    status: 403,
    code: 'ERR_ATTEST_POD_UID_MISMATCH',
  },
  {
    name: 'other pod: recreated under the same name, token never reviewed',
    request: async (fx) => {
      const pod = newPod(fx);
      const token = await fx.stack.k8s.issueToken({ namespace: POD.namespace, podName: pod });
      fx.stack.k8s.recreatePod(POD.namespace, pod);
      return bearer(token);
    },
    status: 403,
    code: 'ERR_ATTEST_TOKEN_INVALID',
  },
  {
    name: 'other service account: token claims batch for a pod running as api',
    request: async (fx) =>
      bearer(
        await fx.stack.k8s.issueToken({
          namespace: POD.namespace,
          podName: POD.name,
          serviceAccount: 'batch',
        }),
      ),
    status: 403,
    code: 'ERR_ATTEST_SERVICE_ACCOUNT_MISMATCH',
  },
  {
    name: 'terminating pod',
    request: async (fx) => {
      const pod = newPod(fx);
      const token = await fx.stack.k8s.issueToken({ namespace: POD.namespace, podName: pod });
      fx.stack.k8s.deletePod(POD.namespace, pod, { terminating: true });
      return bearer(token);
    },
    status: 403,
    code: 'ERR_ATTEST_POD_TERMINATING',
  },
  {
    name: 'pod that has Succeeded',
    request: async (fx) => {
      const pod = newPod(fx);
      fx.stack.k8s.setPhase(POD.namespace, pod, 'Succeeded');
      return bearer(await fx.stack.k8s.issueToken({ namespace: POD.namespace, podName: pod }));
    },
    status: 403,
    code: 'ERR_ATTEST_POD_NOT_RUNNING',
  },
  {
    name: 'live pod no registration selects (default deny)',
    request: async (fx) => {
      const pod = newPod(fx, 'batch');
      return bearer(await fx.stack.k8s.issueToken({ namespace: POD.namespace, podName: pod }));
    },
    status: 403,
    code: 'ERR_POLICY_NO_REGISTRATION',
  },
];

describe('bad-input corpus: projected tokens on POST /v1/svid/x509', () => {
  // Like kube-apiserver, the test API caches successful reviews, so pods deleted or recreated
  // after a review reach Hallmark's own Pod GET.
  const corpus = refusalCorpus({ k8s: { tokenReviewCacheMs: 60_000 } });

  corpus.refuses(CASES);
});
