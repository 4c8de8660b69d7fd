// The test Kubernetes API server: HTTPS on 127.0.0.1, bearer-token authn, RBAC from
// deploy/rbac.yaml, TokenReview and Pod GET, a log of every call, and failure controls.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { renderKubeconfig } from './kubeconfig.js';
import { PodStore } from './pod-store.js';
import type { PodInput, PodJson, PodPhase } from './pod-store.js';
import { RBAC_MANIFEST_URL, isAllowed, loadRbacPolicy } from './rbac-policy.js';
import type { RbacPolicy } from './rbac-policy.js';
import { requestAttributes } from './request-attributes.js';
import { RequestLog } from './request-log.js';
import type { RecordedRequest } from './request-log.js';
import { failure, forbidden } from './status.js';
import { createTlsAuthority } from './tls-authority.js';
import { TokenAuthority } from './token-authority.js';
import type { IssueTokenOptions } from './token-authority.js';
import { readBody, sendJson } from './http-exchange.js';
import { ServedResources } from './served-resources.js';

/** Options of {@link startTestKubernetesApi}. */
export interface TestKubernetesApiOptions {
  /** Bearer token the Hallmark service account presents; default a random one. */
  callerToken?: string;
  /** RBAC manifest to enforce; default `deploy/rbac.yaml`. */
  rbacPath?: string | URL;
  /** Default true: `close()` rejects when any request fell outside the RBAC. */
  strict?: boolean;
  /** Listening port on 127.0.0.1; default 0 (any free port). */
  port?: number;
  /** `iss` of issued tokens. */
  issuer?: string;
  /**
   * How long a successful TokenReview is cached (ms); default 0. kube-apiserver caches
   * successes for about 10 s, so a deleted pod's token can still pass review meanwhile.
   */
  tokenReviewCacheMs?: number;
  /** Default true; false keeps only refused requests (for long benchmark runs). */
  recordAll?: boolean;
}

/** How {@link TestKubernetesApi.setDown} takes the API away. */
export type DownMode = 'refuse' | 'unavailable';

/** A running test Kubernetes API. Create it with {@link startTestKubernetesApi}. */
export class TestKubernetesApi {
  /** CA certificate (PEM) that signs the serving certificate. */
  readonly caPem: string;
  /** The token Hallmark must present. */
  readonly callerToken: string;
  /** The user that token authenticates as (the ServiceAccount in the RBAC manifest). */
  readonly username: string;

  private readonly pods = new PodStore();
  private readonly tokens: TokenAuthority;
  private readonly log: RequestLog;
  private readonly resources: ServedResources;
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private latencyMs = 0;
  private inFlight = 0;
  private mostInFlight = 0;
  private gate: { opened: Promise<void>; open: () => void } | undefined;
  private failures: number[] = [];
  private down: DownMode | false = false;
  private closed = false;
  private boundPort = 0;

  /** @internal use {@link startTestKubernetesApi}. */
  constructor(
    private readonly server: Server,
    private readonly policy: RbacPolicy,
    private readonly options: Required<Pick<TestKubernetesApiOptions, 'strict' | 'recordAll'>> &
      TestKubernetesApiOptions & { callerToken: string; caPem: string },
  ) {
    this.caPem = options.caPem;
    this.callerToken = options.callerToken;
    this.username = policy.username;
    this.tokens = new TokenAuthority(this.pods, { issuer: options.issuer });
    this.log = new RequestLog(options.recordAll);
    this.resources = new ServedResources(this.pods, this.tokens, options.tokenReviewCacheMs ?? 0);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        sendJson(res, 500, failure(500, err instanceof Error ? err.message : String(err)));
      });
    });
  }

  /** The port on 127.0.0.1 (kept across {@link setDown}). */
  get port(): number {
    return this.boundPort;
  }

  /** `https://127.0.0.1:<port>`. */
  get url(): string {
    return `https://127.0.0.1:${this.boundPort}`;
  }

  /** @internal starts (or restarts) listening; used by {@link startTestKubernetesApi}. */
  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
  }

  /** A kubeconfig YAML for this API (default: Hallmark's own token). */
  kubeconfig(options: { token?: string } = {}): string {
    return renderKubeconfig({
      server: this.url,
      caPem: this.caPem,
      token: options.token ?? this.callerToken,
    });
  }

  /** Creates or replaces a pod. */
  addPod(input: PodInput): PodJson {
    return this.pods.add(input);
  }

  /** A copy of the pod, or undefined. */
  getPod(namespace: string, name: string): PodJson | undefined {
    return this.pods.get(namespace, name);
  }

  /** All pods, copied. */
  listPods(): PodJson[] {
    return this.pods.list();
  }

  /**
   * Deletes a pod. With `terminating`, only sets deletionTimestamp (now + grace period,
   * default 30 s) as a graceful delete does while the kubelet stops the containers.
   */
  deletePod(
    namespace: string,
    name: string,
    options: { terminating?: boolean; gracePeriodSeconds?: number } = {},
  ): void {
    if (options.terminating) {
      this.pods.markTerminating(namespace, name, options.gracePeriodSeconds ?? 30);
    } else {
      this.pods.delete(namespace, name);
    }
  }

  /** Deletes and recreates the pod under the same name with a new uid. */
  recreatePod(namespace: string, name: string): PodJson {
    return this.pods.recreate(namespace, name);
  }

  /** Sets the pod's status.phase. */
  setPhase(namespace: string, name: string, phase: PodPhase): PodJson {
    return this.pods.setPhase(namespace, name, phase);
  }

  /** Mints a projected-ServiceAccount-shaped token (see {@link IssueTokenOptions}). */
  issueToken(options: IssueTokenOptions): Promise<string> {
    return this.tokens.issue(options);
  }

  /** A string that is not a JWT at all. */
  garbageToken(): string {
    return randomBytes(24).toString('base64url');
  }

  /** Delays every Kubernetes API response by `ms`. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Answers the next `count` API requests with `status` (a Kubernetes Status body). */
  failNext(status: number, count = 1): void {
    for (let i = 0; i < count; i++) this.failures.push(status);
  }

  /**
   * Takes the API down: `refuse` stops listening and drops open connections (clients see
   * ECONNREFUSED), `unavailable` answers 503 to everything. `setDown(false)` restores it.
   */
  async setDown(down: boolean, mode: DownMode = 'refuse'): Promise<void> {
    const next: DownMode | false = down ? mode : false;
    if (next === this.down) return;
    const wasRefusing = this.down === 'refuse';
    this.down = next;
    if (next === 'refuse') {
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
    } else if (wasRefusing) {
      await this.listen(this.boundPort);
    }
  }

  /** Every request received (copies), oldest first. */
  requests(): RecordedRequest[] {
    return this.log.requests();
  }

  /** Requests that were unauthenticated or outside the RBAC manifest. */
  unexpectedRequests(): RecordedRequest[] {
    return this.log.unexpected();
  }

  /** Forgets recorded requests (including unexpected ones). */
  clearRequests(): void {
    this.log.clear();
    this.mostInFlight = this.inFlight;
  }

  /** Throws when any request was unauthenticated or outside the RBAC manifest. */
  assertNoUnexpectedRequests(): void {
    this.log.assertNoneUnexpected();
  }

  /** Stops the server; in strict mode rejects if any unexpected request was seen. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.release();
      for (const wait of this.waits) {
        clearTimeout(wait.timer);
        wait.resolve();
      }
      this.waits.clear();
      if (this.server.listening) {
        await new Promise<void>((resolve) => {
          this.server.close(() => resolve());
          this.server.closeAllConnections();
        });
      }
    }
    if (this.options.strict) this.assertNoUnexpectedRequests();
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wait = {
        timer: setTimeout(() => {
          this.waits.delete(wait);
          resolve();
        }, ms),
        resolve,
      };
      this.waits.add(wait);
    });
  }

  /** The most requests this API was answering at once since start or {@link clearRequests}. */
  maxInFlight(): number {
    return this.mostInFlight;
  }

  /** Requests being answered now (held ones included). */
  inFlightNow(): number {
    return this.inFlight;
  }

  /**
   * Holds every request, received or still to come, unanswered until {@link release}: an API
   * server too slow to answer within a burst, so what reaches it is what is in flight at once.
   */
  hold(): void {
    if (this.gate !== undefined) return;
    let open = (): void => undefined;
    const opened = new Promise<void>((resolve) => (open = resolve));
    this.gate = { opened, open };
  }

  /** Answers the held requests and stops holding. */
  release(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight += 1;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      await this.answer(req, res);
    } finally {
      this.inFlight -= 1;
    }
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const target = new URL(req.url ?? '/', 'https://127.0.0.1');
    const attrs = requestAttributes(method, target.pathname, target.searchParams);
    const auth = req.headers.authorization;
    const authenticated = auth === `Bearer ${this.callerToken}`;
    const allowed = authenticated && isAllowed(this.policy, attrs);
    const record: RecordedRequest = {
      method,
      path: target.pathname,
      query: target.search.slice(1),
      verb: attrs.verb,
      apiGroup: attrs.apiGroup,
      resource: attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource,
      namespace: attrs.namespace,
      name: attrs.name,
      outcome: !authenticated ? 'unauthenticated' : allowed ? 'allowed' : 'forbidden',
      allowed,
    };
    this.log.add(record);

    const body =
      method === 'POST' || method === 'PUT' || method === 'PATCH' ? await readBody(req) : '';
    if (this.latencyMs > 0) await this.delay(this.latencyMs);
    if (this.gate !== undefined) await this.gate.opened;
    if (this.closed) return;

    const injected = this.failures.shift();
    if (injected !== undefined) {
      sendJson(res, injected, failure(injected, `injected failure ${injected}`));
      return;
    }
    if (this.down === 'unavailable') {
      sendJson(res, 503, failure(503, 'the server is currently unable to handle the request'));
      return;
    }
    if (!authenticated) {
      sendJson(res, 401, failure(401, 'Unauthorized'));
      return;
    }
    if (!allowed) {
      sendJson(res, 403, forbidden(this.username, attrs));
      return;
    }
    const answer = await this.resources.answer(attrs, body);
    sendJson(res, answer.status, answer.body);
  }
}

/** Starts a test Kubernetes API on 127.0.0.1 with a fresh CA. */
export async function startTestKubernetesApi(
  options: TestKubernetesApiOptions = {},
): Promise<TestKubernetesApi> {
  const tls = createTlsAuthority();
  const policy = loadRbacPolicy(options.rbacPath ?? RBAC_MANIFEST_URL);
  const server = createServer({ key: tls.keyPem, cert: tls.certPem, minVersion: 'TLSv1.2' });
  // Longer than the attestor's idle-socket timeout, so kept-alive sockets are not reset under it.
  server.keepAliveTimeout = 65_000;
  const api = new TestKubernetesApi(server, policy, {
    ...options,
    strict: options.strict ?? true,
    recordAll: options.recordAll ?? true,
    callerToken: options.callerToken ?? randomBytes(32).toString('base64url'),
    caPem: tls.caPem,
  });
  await api.listen(options.port ?? 0);
  return api;
}
