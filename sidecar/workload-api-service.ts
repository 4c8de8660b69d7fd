// The SpiffeWorkloadAPI service implementation: the security header on every call, each RPC
// routed to its profile, failures mapped to gRPC statuses at this one edge.
import type {
  Metadata,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedServiceImplementation,
  sendUnaryData,
} from '@grpc/grpc-js';
import { HallmarkError } from '../src/errors/index.js';
import { GRPC_STATUS, grpcFailureOf } from './grpc-status.js';
import { fetchJwtSvid, serveJwtBundles, validateJwtSvidRequest } from './jwt-svid-profile.js';
import type { JwtSvidProfileDeps } from './jwt-svid-profile.js';
import { OpenStream } from './open-stream.js';
import type { SidecarLogger } from './phase-change.js';
import type { JWTSVIDRequest, ValidateJWTSVIDRequest } from './workload-api-proto.js';
import { serveX509Bundles, serveX509Svids } from './x509-svid-profile.js';

/** The metadata every request must carry. @see SPIFFE Workload Endpoint §3 */
export const SECURITY_HEADER = Object.freeze({ key: 'workload.spiffe.io', value: 'true' });

/** Dependencies of {@link WorkloadApiService}. */
export interface WorkloadApiServiceDeps extends JwtSvidProfileDeps {
  readonly log: SidecarLogger;
}

/**
 * The header must be present with the value `true`, case-sensitive, so that an SSRF that can
 * only make the victim send a request cannot reach the API. Refusal is InvalidArgument (§6).
 */
function checkSecurityHeader(metadata: Metadata): void {
  const [value] = metadata.get(SECURITY_HEADER.key);
  if (value !== SECURITY_HEADER.value) throw new HallmarkError('ERR_WORKLOADAPI_HEADER_MISSING');
}

type StreamCall = ServerWritableStream<unknown, unknown>;
type UnaryCall = ServerUnaryCall<unknown, unknown>;

/** The service and the streams it has open (so stopping can end them). */
export class WorkloadApiService {
  private readonly open = new Set<OpenStream<unknown>>();

  constructor(private readonly deps: WorkloadApiServiceDeps) {}

  /** Streams currently open. */
  get openStreams(): number {
    return this.open.size;
  }

  /** The handlers, by RPC name as in workloadapi.proto. */
  implementation(): UntypedServiceImplementation {
    const deps = this.deps;
    return {
      FetchX509SVID: this.stream((stream) => serveX509Svids(deps.identity, stream, deps.federated)),
      FetchX509Bundles: this.stream((stream) =>
        serveX509Bundles(deps.identity, stream, deps.federated),
      ),
      FetchJWTSVID: this.unary((request) => fetchJwtSvid(deps, request as JWTSVIDRequest)),
      FetchJWTBundles: this.stream((stream) => serveJwtBundles(deps, stream)),
      ValidateJWTSVID: this.unary((request) =>
        validateJwtSvidRequest(deps, request as ValidateJWTSVIDRequest),
      ),
      // @see SPIFFE Workload API §7: without the optional WIT-SVID profile, Unimplemented.
      FetchWITSVID: (call: StreamCall) => unimplemented(call),
      FetchWITBundles: (call: StreamCall) => unimplemented(call),
    };
  }

  /** Ends every open stream with `err`'s status (Unavailable for `ERR_WORKLOADAPI_STOPPING`). */
  endStreams(err: HallmarkError): void {
    for (const stream of [...this.open]) stream.fail(err);
  }

  private stream(serve: (stream: OpenStream<never>) => void): (call: StreamCall) => void {
    return (call) => {
      const stream = new OpenStream(call, this.open);
      try {
        checkSecurityHeader(call.metadata);
        serve(stream as OpenStream<never>);
      } catch (err) {
        this.logInternal(call.getPath(), err);
        stream.fail(err);
      }
    };
  }

  private unary(
    handle: (request: unknown) => Promise<unknown>,
  ): (call: UnaryCall, callback: sendUnaryData<unknown>) => void {
    return (call, callback) => {
      const answer = async (): Promise<unknown> => {
        checkSecurityHeader(call.metadata);
        return handle(call.request);
      };
      answer().then(
        (response) => callback(null, response),
        (err: unknown) => {
          this.logInternal(call.getPath(), err);
          callback(grpcFailureOf(err));
        },
      );
    };
  }

  /** Refusals are the caller's business; only what maps to Internal is worth a log line. */
  private logInternal(rpc: string, err: unknown): void {
    if (grpcFailureOf(err).code !== GRPC_STATUS.INTERNAL) return;
    const code = err instanceof HallmarkError ? err.code : 'ERR_INTERNAL';
    const detail = err instanceof HallmarkError ? err.detail : (err as Error)?.message;
    this.deps.log.error({ rpc, code, detail: detail ?? null }, 'Workload API call failed');
  }
}

function unimplemented(call: StreamCall): void {
  call.emit('error', {
    code: GRPC_STATUS.UNIMPLEMENTED,
    details: 'the WIT-SVID profile is not served',
  });
}
