// The real KubernetesApi: @kubernetes/client-node 1.4 with one kubeconfig parsed once, its
// credentials applied once a second, a kept-alive connection pool, and a deadline on every call.
import type { RequestOptions } from 'node:https';
import { Pool } from 'undici';
import {
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  ServerConfiguration,
  createConfiguration,
} from '@kubernetes/client-node';
import type { Cluster, Configuration, RequestContext } from '@kubernetes/client-node';
// The generated request factories, which the package builds its API classes from but does not
// re-export; @kubernetes/client-node is pinned to one version.
import { AuthenticationV1ApiRequestFactory } from '@kubernetes/client-node/dist/gen/apis/AuthenticationV1Api.js';
import { CoreV1ApiRequestFactory } from '@kubernetes/client-node/dist/gen/apis/CoreV1Api.js';
import { systemClock } from '../clock/index.js';
import type { Clock } from '../clock/index.js';
import { HallmarkError } from '../errors/index.js';
import { toAttestError } from './api-failure.js';
import { withDeadline } from './call-deadline.js';
import type { CallDeadline } from './call-deadline.js';
import { KubeconfigCredentials } from './kubeconfig-credentials.js';
import { answerJson, podOf, tokenReviewStatusOf } from './kubernetes-answers.js';
import type { KubernetesAnswer } from './kubernetes-answers.js';
import type { KubernetesApi } from './kubernetes-api.js';
import type { Pod, TokenReviewStatus } from './kubernetes-objects.js';
import { UndiciTransport } from './undici-transport.js';

/** Options of {@link createKubernetesApi}. */
export interface KubernetesApiOptions {
  /** A kubeconfig file (`HALLMARK_KUBECONFIG`); used when `kubeconfigYaml` is absent. */
  kubeconfigPath?: string;
  /** A kubeconfig document; wins over `kubeconfigPath`. Neither: in-cluster config. */
  kubeconfigYaml?: string;
  /** Upper bound on each Kubernetes call, in milliseconds (default for the server: 5000). */
  timeoutMs: number;
  /** Most concurrent connections to the API server; default 64. */
  maxSockets?: number;
  /** Clock for re-reading TLS settings (CA rotation); default the system clock. */
  clock?: Clock;
}

// How long one connection pool (and the CA it trusts) is used before TLS settings are
// re-read: an in-cluster ca.crt can be rotated while the server keeps running.
const AGENT_LIFETIME_MS = 10 * 60_000;

function loadKubeConfig(options: KubernetesApiOptions): KubeConfig {
  const kc = new KubeConfig();
  const source =
    options.kubeconfigYaml !== undefined
      ? 'kubeconfig document'
      : options.kubeconfigPath !== undefined
        ? `kubeconfig ${options.kubeconfigPath}`
        : 'in-cluster config';
  try {
    if (options.kubeconfigYaml !== undefined) kc.loadFromString(options.kubeconfigYaml);
    else if (options.kubeconfigPath !== undefined) kc.loadFromFile(options.kubeconfigPath);
    else kc.loadFromCluster();
  } catch (err) {
    throw new HallmarkError('ERR_CONFIG_INVALID', {
      detail: `HALLMARK_KUBECONFIG: cannot load ${source}: ${err instanceof Error ? err.message : String(err)}`,
      cause: err,
    });
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null || !cluster.server) {
    throw new HallmarkError('ERR_CONFIG_INVALID', {
      detail: `HALLMARK_KUBECONFIG: ${source} names no current cluster`,
    });
  }
  if (cluster.server.includes('//undefined')) {
    // loadFromCluster() without KUBERNETES_SERVICE_HOST/PORT: not running in a pod.
    throw new HallmarkError('ERR_CONFIG_INVALID', {
      detail: 'HALLMARK_KUBECONFIG is unset and this process is not running in a Kubernetes pod',
    });
  }
  return kc;
}

/** How a built request reaches the API server. */
interface Transport {
  send(request: RequestContext, deadline: CallDeadline): Promise<KubernetesAnswer>;
  close(): Promise<void>;
}

/**
 * Proxied clusters keep client-node's own transport: its per-request agent carries the proxy,
 * and its fetch takes an AbortSignal.
 */
class FetchTransport implements Transport {
  readonly #library = new IsomorphicFetchHttpLibrary();

  async send(request: RequestContext, deadline: CallDeadline): Promise<KubernetesAnswer> {
    const controller = new AbortController();
    deadline.onAbort((reason) => controller.abort(reason));
    request.setSignal(controller.signal);
    const response = await this.#library.send(request).toPromise();
    return {
      status: response.httpStatusCode,
      headers: response.headers,
      text: await response.body.text(),
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * client-node builds a fresh https.Agent for every request (one TLS handshake per call) and
 * sends through node-fetch; at thousands of attestations a second we reuse one kept-alive
 * undici pool with the kubeconfig's TLS settings instead.
 */
async function sharedTransport(kc: KubeConfig, maxSockets: number): Promise<Transport> {
  const cluster = kc.getCurrentCluster() as Cluster;
  if (cluster.proxyUrl) return new FetchTransport();
  const tls: RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  const origin = new URL(cluster.server).origin;
  const pool = new Pool(origin, {
    connections: maxSockets,
    connect: {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      servername: tls.servername,
      rejectUnauthorized: tls.rejectUnauthorized ?? true,
    },
    // Idle sockets close before typical API-server idle timeouts, avoiding reuse races.
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 30_000,
  });
  return new UndiciTransport(pool, origin);
}

/**
 * The two calls, each built by client-node's generated request factory (URL and path escaping,
 * the TokenReview's serialisation, headers, the kubeconfig's credentials) and answered as plain
 * JSON read into the slices attestation checks (kubernetes-answers.ts). client-node's typed
 * deserialisation walked every field of the whole Pod (a few kB in a real cluster) for the
 * handful attestation reads, and its promise/observable chain per call cost as much again.
 */
class ClientNodeKubernetesApi implements KubernetesApi {
  private readonly reviews: AuthenticationV1ApiRequestFactory;
  private readonly pods: CoreV1ApiRequestFactory;
  private readonly configuration: Configuration;
  private transport: Promise<Transport> | undefined;
  // The transport once built, for calls that need not wait for it.
  private built: { transport: Transport; of: Promise<Transport> } | undefined;
  private transportBuiltAt = 0;

  constructor(
    private readonly kc: KubeConfig,
    private readonly timeoutMs: number,
    private readonly maxSockets: number,
    private readonly clock: Clock,
  ) {
    const cluster = kc.getCurrentCluster() as Cluster;
    this.configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      // Through a proxy, client-node's own authentication sets the agent that carries it.
      authMethods: { default: cluster.proxyUrl ? kc : new KubeconfigCredentials(kc, clock) },
    });
    this.reviews = new AuthenticationV1ApiRequestFactory(this.configuration);
    this.pods = new CoreV1ApiRequestFactory(this.configuration);
  }

  reviewToken(token: string, audiences: readonly string[]): Promise<TokenReviewStatus> {
    const operation = 'create TokenReview';
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, audiences: [...audiences] },
    };
    return this.call(
      operation,
      token,
      () => this.reviews.createTokenReview(body),
      (answer) => tokenReviewStatusOf(answerJson(answer, operation)),
    );
  }

  getPod(namespace: string, name: string): Promise<Pod | null> {
    const operation = `get pod ${namespace}/${name}`;
    return this.call(
      operation,
      undefined,
      () => this.pods.readNamespacedPod(name, namespace),
      (answer) => (answer.status === 404 ? null : podOf(answerJson(answer, operation))),
    );
  }

  private currentTransport(): Transport | Promise<Transport> {
    const now = this.clock.now();
    if (this.transport === undefined || now - this.transportBuiltAt > AGENT_LIFETIME_MS) {
      const previous = this.transport;
      const built = sharedTransport(this.kc, this.maxSockets);
      this.transport = built;
      this.transportBuiltAt = now;
      // The old pool finishes its in-flight calls, then closes its sockets.
      void previous?.then((old) => old.close()).catch(() => undefined);
      built.then(
        (transport) => {
          if (this.transport === built) this.built = { transport, of: built };
        },
        // A failed build (unreadable CA file) is retried on the next call, not cached.
        () => {
          if (this.transport === built) this.transport = undefined;
        },
      );
    }
    const built = this.built;
    return built !== undefined && built.of === this.transport ? built.transport : this.transport;
  }

  private async call<T>(
    operation: string,
    secret: string | undefined,
    build: () => Promise<RequestContext>,
    read: (answer: KubernetesAnswer) => T,
  ): Promise<T> {
    try {
      return await withDeadline(this.timeoutMs, async (deadline) => {
        // The request first, then the pool: a pool is closed when it is replaced, so none is
        // held across an await before the call is dispatched on it.
        const request = await build();
        const current = this.currentTransport();
        const transport = current instanceof Promise ? await current : current;
        return read(await transport.send(request, deadline));
      });
    } catch (err) {
      throw toAttestError(err, operation, secret);
    }
  }
}

/**
 * Creates the client-node KubernetesApi: the kubeconfig (`kubeconfigYaml`, else
 * `kubeconfigPath`, else in-cluster) is parsed once and the API clients are reused.
 * @throws HallmarkError ERR_CONFIG_INVALID when the configuration cannot be loaded.
 */
export function createKubernetesApi(options: KubernetesApiOptions): KubernetesApi {
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new HallmarkError('ERR_CONFIG_INVALID', {
      detail: `Kubernetes call timeout must be a positive number of ms, got ${options.timeoutMs}`,
    });
  }
  return new ClientNodeKubernetesApi(
    loadKubeConfig(options),
    options.timeoutMs,
    options.maxSockets ?? 64,
    options.clock ?? systemClock,
  );
}
