// The demo's second app: it knows nothing about Hallmark, only the SPIFFE Workload API on
// SPIFFE_ENDPOINT_SOCKET — as go-spiffe or py-spiffe clients would use it.
import { X509Certificate } from 'node:crypto';
import {
  Metadata,
  credentials,
  makeGenericClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { workloadApiDefinition } from '../sidecar/index.js';

interface Call {
  on(
    event: 'data',
    listener: (message: { svids: { spiffe_id: string; x509_svid: Buffer }[] }) => void,
  ): void;
  on(event: 'error', listener: (err: ServiceError) => void): void;
  cancel(): void;
}
interface WorkloadApiClient {
  FetchX509SVID(request: object, metadata: Metadata): Call;
  FetchJWTSVID(
    request: { audience: string[] },
    metadata: Metadata,
    done: (
      err: ServiceError | null,
      response?: { svids: { spiffe_id: string; svid: string }[] },
    ) => void,
  ): void;
  ValidateJWTSVID(
    request: { audience: string; svid: string },
    metadata: Metadata,
    done: (err: ServiceError | null, response?: { spiffe_id: string }) => void,
  ): void;
  close(): void;
}

const socket = process.env['SPIFFE_ENDPOINT_SOCKET'];
if (!socket) throw new Error('SPIFFE_ENDPOINT_SOCKET is not set');
const Client = makeGenericClientConstructor(workloadApiDefinition(), 'SpiffeWorkloadAPI');
const client = new Client(socket, credentials.createInsecure()) as unknown as WorkloadApiClient;
const metadata = new Metadata();
metadata.set('workload.spiffe.io', 'true'); // the security header every call must carry

const x509 = await new Promise<{ id: string; notAfter: string }>((resolve, reject) => {
  const call = client.FetchX509SVID({}, metadata);
  call.on('data', (message) => {
    const svid = message.svids[0];
    if (!svid) return;
    const leaf = new X509Certificate(svid.x509_svid);
    call.cancel();
    resolve({ id: svid.spiffe_id, notAfter: new Date(leaf.validTo).toISOString() });
  });
  call.on('error', (err) => (err.code === 1 ? undefined : reject(err))); // 1 = CANCELLED by us
});
const jwt = await new Promise<string>((resolve, reject) =>
  client.FetchJWTSVID({ audience: ['demo-db'] }, metadata, (err, response) =>
    err ? reject(err) : resolve(response?.svids[0]?.svid ?? ''),
  ),
);
const validated = await new Promise<string>((resolve, reject) =>
  client.ValidateJWTSVID({ audience: 'demo-db', svid: jwt }, metadata, (err, response) =>
    err ? reject(err) : resolve(response?.spiffe_id ?? ''),
  ),
);
client.close();
console.log(
  `Workload API: X509-SVID ${x509.id} (until ${x509.notAfter}); JWT-SVID for audience demo-db validated as ${validated}`,
);
