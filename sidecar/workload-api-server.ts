// The SPIFFE Workload API endpoint: a gRPC server on the sidecar's Unix socket, started and
// stopped with the sidecar. @see SPIFFE Workload Endpoint §3, §4
import type { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Clock } from '../src/clock/index.js';
import { HallmarkError } from '../src/errors/index.js';
import type { RandomSource } from './backoff.js';
import type { FederatedBundleFeed } from './federated-bundle-feed.js';
import type { IdentityFeed } from './identity-feed.js';
import { JwtBundleWatch } from './jwt-bundle-watch.js';
import type { JwtServerApi } from './jwt-server-api.js';
import type { SidecarLogger } from './phase-change.js';
import { realTimers } from './refresh-loop.js';
import type { Timers } from './refresh-loop.js';
import { workloadApiDefinition } from './workload-api-proto.js';
import { WorkloadApiService } from './workload-api-service.js';
import {
  isOurSocket,
  prepareSocketPath,
  publishSocket,
  removeSocket,
  temporarySocketPath,
} from './workload-api-socket.js';

/** Options of {@link startWorkloadApi}. */
export interface WorkloadApiOptions {
  /** Absolute path of the Unix socket (from `SPIFFE_ENDPOINT_SOCKET`). */
  readonly socketPath: string;
  /** The identity to serve, published by the refresh loop. */
  readonly identity: IdentityFeed;
  /** JWT-SVID issuance and the JWT authorities (the Hallmark server). */
  readonly jwtApi: JwtServerApi;
  /** The federated trust domains' bundles, when the sidecar follows them. */
  readonly federated?: FederatedBundleFeed;
  readonly clock: Clock;
  readonly log: SidecarLogger;
  readonly timers?: Timers;
  readonly random?: RandomSource;
}

/** A running Workload API. */
export interface WorkloadApiServer {
  readonly socketPath: string;
  /** The `SPIFFE_ENDPOINT_SOCKET` value clients use: `unix://<socketPath>`. */
  readonly endpoint: string;
  /** Streams currently open (for tests and diagnostics). */
  readonly openStreams: number;
  /** True until stopped, and while the socket path still leads to this server. */
  serving(): boolean;
  /** Ends every stream with Unavailable, closes the listener and removes the socket. */
  stop(): Promise<void>;
}

/** How long stopping waits for calls in flight before cutting them (ms). */
const SHUTDOWN_GRACE_MS = 2_000;

function bind(server: Server, socketPath: string, credentials: ServerCredentials): Promise<void> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`unix://${socketPath}`, credentials, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * Serves `SpiffeWorkloadAPI` on `options.socketPath`. No TLS and no client authentication: the
 * spec forbids requiring either (§3.1, §5); the socket's mode and location (the pod's own
 * volume) decide who can connect.
 * @throws HallmarkError `ERR_WORKLOADAPI_SOCKET_IN_USE` or `ERR_WORKLOADAPI_SOCKET_FAILED`.
 */
export async function startWorkloadApi(options: WorkloadApiOptions): Promise<WorkloadApiServer> {
  const timers = options.timers ?? realTimers;
  const { socketPath } = options;
  await prepareSocketPath(socketPath);
  const bundles = new JwtBundleWatch({
    api: options.jwtApi,
    clock: options.clock,
    timers,
    random: options.random,
  });
  const service = new WorkloadApiService({
    identity: options.identity,
    api: options.jwtApi,
    bundles,
    clock: options.clock,
    log: options.log,
    federated: options.federated,
  });
  // Loaded here rather than at module load: `--once` and embedders without a socket never need it.
  const grpc = await import('@grpc/grpc-js');
  const server = new grpc.Server();
  server.addService(workloadApiDefinition(), service.implementation());
  const temporary = temporarySocketPath(socketPath);
  try {
    await bind(server, temporary, grpc.ServerCredentials.createInsecure());
  } catch (err) {
    server.forceShutdown();
    throw new HallmarkError('ERR_WORKLOADAPI_SOCKET_FAILED', {
      detail: `bind ${temporary}: ${(err as Error).message}`,
      cause: err,
    });
  }
  let identity;
  try {
    identity = await publishSocket(temporary, socketPath);
  } catch (err) {
    server.forceShutdown();
    throw err;
  }
  options.log.info({ socket: socketPath }, `SPIFFE Workload API serving on unix://${socketPath}`);

  let stopping: Promise<void> | undefined;
  return {
    socketPath,
    endpoint: `unix://${socketPath}`,
    get openStreams() {
      return service.openStreams;
    },
    serving() {
      return stopping === undefined && isOurSocket(socketPath, identity);
    },
    stop() {
      stopping ??= (async () => {
        bundles.stop();
        // Streams never finish by themselves: end them so clients reconnect with backoff (§6).
        service.endStreams(new HallmarkError('ERR_WORKLOADAPI_STOPPING'));
        await new Promise<void>((resolve) => {
          const cut = timers.set(() => {
            server.forceShutdown();
            resolve();
          }, SHUTDOWN_GRACE_MS);
          server.tryShutdown(() => {
            timers.clear(cut);
            resolve();
          });
        });
        await removeSocket(socketPath, identity);
      })();
      return stopping;
    },
  };
}
