// client-node's requests sent over one kept-alive undici pool: the request client-node's
// generated code built (URL, method, headers with the kubeconfig's credentials, JSON body),
// dispatched with a handler that keeps the answer's bytes and nothing else.
import type { RequestContext } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import type { CallDeadline } from './call-deadline.js';
import type { KubernetesAnswer } from './kubernetes-answers.js';

/**
 * The path (with query) of a request client-node built against `origin`. Its URL starts with
 * the origin, both normalised by the same WHATWG URL parser; anything else is parsed.
 */
function pathOf(url: string, origin: string): string {
  if (url.startsWith(origin) && url.charCodeAt(origin.length) === 47 /* '/' */)
    return url.slice(origin.length);
  const parsed = new URL(url);
  if (parsed.origin !== origin) throw new Error(`request for ${parsed.origin}, not ${origin}`);
  return `${parsed.pathname}${parsed.search}`;
}

/** Collects one answer; settles through `done` exactly once. */
class AnswerHandler implements Dispatcher.DispatchHandler {
  #status = 0;
  #headers: KubernetesAnswer['headers'] = {};
  #chunks: Buffer[] = [];

  constructor(
    private readonly deadline: CallDeadline,
    private readonly resolve: (answer: KubernetesAnswer) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.deadline.onAbort((reason) => controller.abort(reason));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: KubernetesAnswer['headers'],
  ): void {
    this.#status = statusCode;
    this.#headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    const chunks = this.#chunks;
    // One chunk for a small answer: its bytes are decoded where they are, not copied first.
    const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    this.resolve({ status: this.#status, headers: this.#headers, text: bytes.toString('utf8') });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.reject(err);
  }
}

/**
 * client-node 1.4 sends every call through node-fetch, which re-creates headers, body streams
 * and an https.Agent per request; undici's `request()` still makes a response stream, an async
 * resource and an abort listener per call. This dispatches straight to a pool whose TLS
 * settings come from the same kubeconfig, aborting through the call's deadline.
 */
export class UndiciTransport {
  constructor(
    private readonly dispatcher: Dispatcher,
    /** The API server's origin, as `new URL(server).origin` gives it. */
    private readonly origin: string,
  ) {}

  send(request: RequestContext, deadline: CallDeadline): Promise<KubernetesAnswer> {
    const body = request.getBody();
    if (body !== undefined && typeof body !== 'string') {
      // client-node sends JSON text for every call Hallmark makes (TokenReview, Pod).
      return Promise.reject(new TypeError('only string request bodies are supported'));
    }
    let path: string;
    try {
      path = pathOf(request.getUrl(), this.origin);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise<KubernetesAnswer>((resolve, reject) => {
      this.dispatcher.dispatch(
        {
          origin: this.origin,
          path,
          method: request.getHttpMethod() as Dispatcher.HttpMethod,
          headers: request.getHeaders(),
          body,
        },
        new AnswerHandler(deadline, resolve, reject),
      );
    });
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
