// What a pod and an operator do against a server: get an SVID, log in with it, log in as admin.
import { X509Certificate } from 'node:crypto';
import { normalizeSerial } from '../../../src/authn/index.js';
import { buildCsr, generateKeyPair } from '../../../src/x509/index.js';
import type { ClientCredential, HallmarkClient, Reply } from './hallmark-client.js';

/** A workload key pair and its CSR. */
export interface WorkloadKey {
  csr: string;
  keyPem: string;
}

/** A fresh P-256 key and CSR, as the sidecar makes them. */
export function workloadKey(): WorkloadKey {
  const keyPair = generateKeyPair('ec-p256');
  return {
    csr: buildCsr(keyPair),
    keyPem: keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/** `POST /v1/svid/x509` with a projected ServiceAccount token. */
export function requestSvid(
  client: HallmarkClient,
  projectedToken: string,
  key: WorkloadKey,
): Promise<Reply> {
  return client.call('POST', '/v1/svid/x509', { body: { csr: key.csr }, token: projectedToken });
}

/** The leaf serial of an SVID response, in the form `issued_certificates.serial` stores. */
export function leafSerial(reply: Reply): string {
  return normalizeSerial(new X509Certificate(reply.body.svid as string).serialNumber);
}

/** The mTLS credential of a successful SVID response. */
export function svidCredential(reply: Reply, key: WorkloadKey): ClientCredential {
  return { cert: reply.body.svid as string, key: key.keyPem };
}

/** Gets an SVID and logs in with it over mTLS; returns the access token. */
export async function workloadToken(
  svidServer: HallmarkClient,
  loginServer: HallmarkClient,
  projectedToken: string,
): Promise<string> {
  const key = workloadKey();
  const svid = await requestSvid(svidServer, projectedToken, key);
  if (svid.status !== 200) throw new Error(`SVID refused: ${JSON.stringify(svid.body)}`);
  const login = await loginServer.call('POST', '/v1/authn/login', {
    agent: loginServer.agent(svidCredential(svid, key)),
  });
  if (login.status !== 200) throw new Error(`login refused: ${JSON.stringify(login.body)}`);
  return login.body.token as string;
}

/** `POST /v1/authn/apikey`; returns the access token. */
export async function apiKeyToken(
  client: HallmarkClient,
  id: string,
  key: string,
): Promise<string> {
  const login = await client.call('POST', '/v1/authn/apikey', { body: { id, api_key: key } });
  if (login.status !== 200) throw new Error(`API-key login refused: ${JSON.stringify(login.body)}`);
  return login.body.token as string;
}
