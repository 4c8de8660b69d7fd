// A SPIFFE Workload API client for tests, built the way any gRPC client would be: from the
// .proto (keepCase, no package), over the Unix socket, with or without the security header.
import { Metadata, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import type { Client, ClientReadableStream, ServiceError, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type {
  JWTBundlesResponse,
  JWTSVIDResponse,
  ValidateJWTSVIDResponse,
  X509BundlesResponse,
  X509SVIDResponse,
} from '../../sidecar/index.js';
import { WORKLOAD_API_PROTO_PATH } from '../../sidecar/index.js';
import { waitFor } from './wait-for.js';

/** The service as a client loads it from the .proto, independently of the server's copy. */
export const CLIENT_SERVICE = loadSync(WORKLOAD_API_PROTO_PATH, {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
}).SpiffeWorkloadAPI as ServiceDefinition;

/** How a call ended. */
export interface CallStatus {
  readonly code: status;
  readonly details: string;
}

/** The messages of one server stream as they arrive, and its final status. */
export class StreamReader<T> {
  readonly messages: T[] = [];
  status: CallStatus | undefined;

  constructor(private readonly call: ClientReadableStream<T>) {
    call.on('data', (message: T) => this.messages.push(message));
    call.on('error', (err: ServiceError) => {
      this.status ??= { code: err.code, details: err.details };
    });
    call.on('status', (s: CallStatus) => {
      this.status ??= { code: s.code, details: s.details };
    });
  }

  /** Resolves with message number `n` (1-based) once it has arrived (bounded wait). */
  async message(n: number, limitMs = 20_000): Promise<T> {
    await waitFor(
      `stream message ${n}`,
      () => this.messages.length >= n,
      limitMs,
      () => ({
        received: this.messages.length,
        status: this.status,
      }),
    );
    return this.messages[n - 1] as T;
  }

  /** Resolves with the final status once the server has ended the stream (bounded wait). */
  async ended(limitMs = 20_000): Promise<CallStatus> {
    const ended = await waitFor(
      'stream end',
      () => this.status,
      limitMs,
      () => ({
        received: this.messages.length,
      }),
    );
    return ended as CallStatus;
  }

  cancel(): void {
    this.call.cancel();
  }
}

type Unary = (
  request: unknown,
  metadata: Metadata,
  callback: (err: ServiceError | null, response: unknown) => void,
) => void;
type Streaming = (request: unknown, metadata: Metadata) => ClientReadableStream<unknown>;

/** Per-call options: `header: false` omits `workload.spiffe.io`, a string sends that value. */
export interface CallOptions {
  readonly header?: boolean | string;
}

/** A connected client. */
export class WorkloadApiClient {
  private readonly client: Client;

  /** `endpoint` as in `SPIFFE_ENDPOINT_SOCKET` (`unix:///path`). */
  constructor(endpoint: string) {
    const Constructor = makeGenericClientConstructor(CLIENT_SERVICE, 'SpiffeWorkloadAPI');
    this.client = new Constructor(endpoint, credentials.createInsecure());
  }

  fetchX509Svid(options?: CallOptions): StreamReader<X509SVIDResponse> {
    return this.stream('FetchX509SVID', {}, options);
  }

  fetchX509Bundles(options?: CallOptions): StreamReader<X509BundlesResponse> {
    return this.stream('FetchX509Bundles', {}, options);
  }

  fetchJwtBundles(options?: CallOptions): StreamReader<JWTBundlesResponse> {
    return this.stream('FetchJWTBundles', {}, options);
  }

  fetchWitSvid(options?: CallOptions): StreamReader<unknown> {
    return this.stream('FetchWITSVID', {}, options);
  }

  fetchJwtSvid(
    request: { audience: string[]; spiffe_id?: string },
    options?: CallOptions,
  ): Promise<JWTSVIDResponse> {
    return this.unary('FetchJWTSVID', request, options);
  }

  validateJwtSvid(
    request: { audience: string; svid: string },
    options?: CallOptions,
  ): Promise<ValidateJWTSVIDResponse> {
    return this.unary('ValidateJWTSVID', request, options);
  }

  close(): void {
    this.client.close();
  }

  private metadata(options: CallOptions = {}): Metadata {
    const metadata = new Metadata();
    const header = options.header ?? true;
    if (header !== false) metadata.set('workload.spiffe.io', header === true ? 'true' : header);
    return metadata;
  }

  private stream<T>(method: string, request: unknown, options?: CallOptions): StreamReader<T> {
    const call = (this.client as unknown as Record<string, Streaming>)[method]!.call(
      this.client,
      request,
      this.metadata(options),
    );
    return new StreamReader(call as ClientReadableStream<T>);
  }

  private unary<T>(method: string, request: unknown, options?: CallOptions): Promise<T> {
    return new Promise((resolve, reject) => {
      (this.client as unknown as Record<string, Unary>)[method]!.call(
        this.client,
        request,
        this.metadata(options),
        (err, response) => (err ? reject(err) : resolve(response as T)),
      );
    });
  }
}

/** The status a unary call failed with (fails the test if it succeeded). */
export async function failureOf(call: Promise<unknown>): Promise<CallStatus> {
  try {
    await call;
  } catch (err) {
    const { code, details } = err as ServiceError;
    return { code, details };
  }
  throw new Error('the call succeeded');
}

/** JSON from a `google.protobuf.Struct` as proto-loader decodes it (oneofs named by `kind`). */
export function structToJson(struct: unknown): Record<string, unknown> {
  const fields = (struct as { fields: Record<string, unknown> }).fields;
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [key, valueToJson(value)]),
  );
}

function valueToJson(value: unknown): unknown {
  const v = value as Record<string, unknown> & { kind: string };
  switch (v.kind) {
    case 'nullValue':
      return null;
    case 'structValue':
      return structToJson(v.structValue);
    case 'listValue':
      return (v.listValue as { values: unknown[] }).values.map(valueToJson);
    default:
      return v[v.kind];
  }
}
