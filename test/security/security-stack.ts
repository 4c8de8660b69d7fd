// The corpus fixture: one stack per file with an admin, an app API key and a logged-in workload.
import { readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { Agent, type Dispatcher } from 'undici';
import { buildCsr, generateKeyPair, type KeyPair } from '../../src/x509/index.js';
import { startStack, type HallmarkStack, type ResponseBody } from '../helpers/hallmark-stack.js';
import type { TestKubernetesApiOptions } from '../k8s-api/index.js';

/** Registers payments/api, lets it and the `app-reader` API key read `payments/*`. */
export const SECURITY_POLICY = `
workloads:
  - namespace: payments
    serviceAccount: api
groups:
  payments-readers: [spiffe://hallmark.local/ns/payments/sa/api, key:app-reader]
grants:
  - to: payments-readers
    read: [payments/*]
`;

/** The workload's pod. */
export const POD = Object.freeze({ namespace: 'payments', name: 'api-1', serviceAccount: 'api' });

/** A request sent exactly as written: the path is not normalised or re-encoded. */
export interface RawRequest {
  readonly method: Dispatcher.HttpMethod;
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** Sent as JSON with `content-type: application/json`. */
  readonly json?: unknown;
  /** Sent as is (set `content-type` yourself, or leave it out on purpose). */
  readonly raw?: string | Buffer;
  /** Another client (mTLS); default trusts the bundle and presents no certificate. */
  readonly dispatcher?: Dispatcher;
}

/** Status, headers and parsed body (raw text under `text` when not JSON). */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: ResponseBody;
}

/** A logged-in workload: its SVID, key, mTLS client and access token. */
export interface Workload {
  readonly keyPair: KeyPair;
  readonly svidPem: string;
  readonly keyPem: string;
  readonly mtls: Agent;
  readonly token: string;
}

/** Everything the corpus files share. */
export interface SecurityStack {
  readonly stack: HallmarkStack;
  readonly adminKey: string;
  readonly adminToken: string;
  readonly appKey: string;
  readonly appToken: string;
  readonly workload: Workload;
  send(request: RawRequest): Promise<RawResponse>;
  /** A fresh projected token bound to `podName` (default the workload's pod). */
  projectedToken(podName?: string): Promise<string>;
  /** An undici client presenting `cert`/`key` (closed with the fixture). */
  mtlsAgent(cert: string, key: string | KeyObject): Agent;
  /** Obtains an SVID for a pod (which must exist and be registered). */
  issueSvid(podName: string, keyPair?: KeyPair): Promise<{ svidPem: string; keyPem: string }>;
  /** Adds a fresh pod of the workload and obtains its SVID (for cases that then remove it). */
  podWithSvid(): Promise<{ pod: string; svidPem: string; keyPem: string }>;
  close(): Promise<void>;
}

/** Options of {@link startSecurityStack}. */
export interface SecurityStackOptions {
  readonly env?: Record<string, string>;
  readonly k8s?: TestKubernetesApiOptions;
}

const pemOf = (key: KeyObject): string => key.export({ format: 'pem', type: 'pkcs8' }).toString();

/** Starts the stack, loads {@link SECURITY_POLICY}, and logs in the admin, an app and a workload. */
export async function startSecurityStack(
  options: SecurityStackOptions = {},
): Promise<SecurityStack> {
  // No CA ticker: nothing may write state or audit rows between a case's two snapshots.
  const stack = await startStack({
    policy: SECURITY_POLICY,
    caTicker: false,
    env: options.env,
    k8s: options.k8s,
  });
  const agents: Agent[] = [];
  const ca = stack.server.ca.bundle().certificatesPem.join('');
  const mtlsAgent = (cert: string, key: string | KeyObject): Agent => {
    const agent = new Agent({
      connect: { ca, cert, key: typeof key === 'string' ? key : pemOf(key) },
    });
    agents.push(agent);
    return agent;
  };
  const plain = new Agent({ connect: { ca } });
  agents.push(plain);

  const send = async (request: RawRequest): Promise<RawResponse> => {
    const headers: Record<string, string> = {
      ...(request.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...request.headers,
    };
    const response = await (request.dispatcher ?? plain).request({
      origin: stack.server.url,
      path: request.path,
      method: request.method,
      headers,
      body: request.raw ?? (request.json === undefined ? undefined : JSON.stringify(request.json)),
      headersTimeout: 20_000,
      bodyTimeout: 20_000,
    });
    const text = await response.body.text();
    let body: ResponseBody;
    try {
      body = JSON.parse(text) as ResponseBody;
    } catch {
      body = { text };
    }
    return { status: response.statusCode, headers: response.headers, body };
  };

  const projectedToken = (podName: string = POD.name): Promise<string> =>
    stack.k8s.issueToken({ namespace: POD.namespace, podName });

  const issueSvid = async (
    podName: string,
    keyPair: KeyPair = generateKeyPair('ec-p256'),
  ): Promise<{ svidPem: string; keyPem: string }> => {
    const response = await send({
      method: 'POST',
      path: '/v1/svid/x509',
      headers: { authorization: `Bearer ${await projectedToken(podName)}` },
      json: { csr: buildCsr(keyPair) },
    });
    if (response.status !== 200) throw new Error(`SVID setup failed: ${response.status}`);
    return { svidPem: response.body.svid as string, keyPem: pemOf(keyPair.privateKey) };
  };

  let pods = 0;
  const podWithSvid = async (): Promise<{ pod: string; svidPem: string; keyPem: string }> => {
    const pod = `extra-${++pods}`;
    stack.k8s.addPod({
      namespace: POD.namespace,
      name: pod,
      serviceAccountName: POD.serviceAccount,
    });
    return { pod, ...(await issueSvid(pod)) };
  };

  const apiKeyLogin = async (id: string, key: string): Promise<string> => {
    const response = await send({
      method: 'POST',
      path: '/v1/authn/apikey',
      json: { id, api_key: key },
    });
    if (response.status !== 200) throw new Error(`API key login failed: ${response.status}`);
    return response.body.token as string;
  };

  try {
    stack.k8s.addPod({
      namespace: POD.namespace,
      name: POD.name,
      serviceAccountName: POD.serviceAccount,
    });
    const adminKey = (await readFile(stack.server.admin.file, 'utf8')).trim();
    const adminToken = await apiKeyLogin('admin', adminKey);
    const appKey = await stack.server.authn.createApiKey({ id: 'app-reader', role: 'app' });
    const appToken = await apiKeyLogin('app-reader', appKey);
    const written = await send({
      method: 'PUT',
      path: '/v1/secrets/payments/db-password',
      headers: { authorization: `Bearer ${adminToken}` },
      json: { value: 'corpus-secret-value' },
    });
    if (written.status !== 200) throw new Error(`secret setup failed: ${written.status}`);

    const keyPair = generateKeyPair('ec-p256');
    const { svidPem, keyPem } = await issueSvid(POD.name, keyPair);
    const mtls = mtlsAgent(svidPem, keyPem);
    const login = await send({ method: 'POST', path: '/v1/authn/login', dispatcher: mtls });
    if (login.status !== 200) throw new Error(`workload login failed: ${login.status}`);
    const workload: Workload = {
      keyPair,
      svidPem,
      keyPem,
      mtls,
      token: login.body.token as string,
    };
    return {
      stack,
      adminKey,
      adminToken,
      appKey,
      appToken,
      workload,
      send,
      projectedToken,
      mtlsAgent,
      issueSvid,
      podWithSvid,
      async close() {
        await Promise.all(agents.map((a) => a.close()));
        await stack.close();
      },
    };
  } catch (err) {
    await Promise.all(agents.map((a) => a.close()));
    await stack.close();
    throw err;
  }
}
