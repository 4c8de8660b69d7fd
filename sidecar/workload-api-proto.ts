// The Workload API's gRPC service, loaded from workloadapi.proto, and its messages as TypeScript
// types whose field names are the .proto's own (proto-loader keeps their case).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { Options, loadSync } from '@grpc/proto-loader';
import type { ProtoStruct } from './protobuf-struct.js';

/** The .proto file beside this module (the service definition clients also use). */
export const WORKLOAD_API_PROTO_PATH = fileURLToPath(
  new URL('./workloadapi.proto', import.meta.url),
);

/**
 * How the .proto is loaded: snake_case names as written, every field present with its default
 * (so an empty `audience` reads as `[]`, not `undefined`), oneofs named (Struct values), bytes as
 * Buffers.
 */
export const PROTO_LOADER_OPTIONS: Readonly<Options> = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** The fully qualified service name: no proto package, exactly as SPIFFE clients call it. */
export const WORKLOAD_API_SERVICE = 'SpiffeWorkloadAPI';

let definition: ServiceDefinition | undefined;

/**
 * The `SpiffeWorkloadAPI` service definition (loaded once; the file ships with the sidecar).
 * proto-loader is required here, on first use, so that `--once` never loads it.
 */
export function workloadApiDefinition(): ServiceDefinition {
  const protoLoader = createRequire(import.meta.url)('@grpc/proto-loader') as {
    loadSync: typeof loadSync;
  };
  definition ??= protoLoader.loadSync(WORKLOAD_API_PROTO_PATH, PROTO_LOADER_OPTIONS)[
    WORKLOAD_API_SERVICE
  ] as ServiceDefinition;
  return definition;
}

/** One X509-SVID with its key and bundle. @see SPIFFE Workload API §5.1 */
export interface X509SVID {
  readonly spiffe_id: string;
  /** DER certificates, leaf first, concatenated. */
  readonly x509_svid: Buffer;
  /** Unencrypted PKCS#8 DER. */
  readonly x509_svid_key: Buffer;
  /** DER CA certificates of the trust domain, concatenated. */
  readonly bundle: Buffer;
  readonly hint: string;
}

/** A `FetchX509SVID` stream message. */
export interface X509SVIDResponse {
  readonly svids: readonly X509SVID[];
  readonly crl: readonly Buffer[];
  readonly federated_bundles: Readonly<Record<string, Buffer>>;
}

/** A `FetchX509Bundles` stream message. */
export interface X509BundlesResponse {
  readonly crl: readonly Buffer[];
  /** DER CA certificates keyed by trust domain SPIFFE ID (`spiffe://td`). */
  readonly bundles: Readonly<Record<string, Buffer>>;
}

/** The `FetchJWTSVID` request. @see SPIFFE Workload API §6.1 */
export interface JWTSVIDRequest {
  readonly audience: readonly string[];
  readonly spiffe_id: string;
}

/** One JWT-SVID. */
export interface JWTSVID {
  readonly spiffe_id: string;
  /** JWS Compact Serialization. */
  readonly svid: string;
  readonly hint: string;
}

/** The `FetchJWTSVID` answer. */
export interface JWTSVIDResponse {
  readonly svids: readonly JWTSVID[];
}

/** A `FetchJWTBundles` stream message. */
export interface JWTBundlesResponse {
  /** JWK Set JSON (UTF-8) keyed by trust domain SPIFFE ID. */
  readonly bundles: Readonly<Record<string, Buffer>>;
}

/** The `ValidateJWTSVID` request. */
export interface ValidateJWTSVIDRequest {
  readonly audience: string;
  readonly svid: string;
}

/** The `ValidateJWTSVID` answer. */
export interface ValidateJWTSVIDResponse {
  readonly spiffe_id: string;
  readonly claims: ProtoStruct;
}
