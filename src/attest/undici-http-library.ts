// client-node's HTTP transport swapped for undici: the request client-node's generated code
// built (URL, method, headers with the kubeconfig's credentials, JSON body, abort signal), sent
// over one kept-alive connection pool.
import { ResponseContext } from '@kubernetes/client-node';
import type { PromiseHttpLibrary, RequestContext } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';

/**
 * client-node 1.4 sends every call through node-fetch, which re-creates headers, body streams
 * and an https.Agent per request: at thousands of attestations a second it cost more CPU than
 * the certificate engine. This sends through an undici dispatcher whose TLS settings come from
 * the same kubeconfig.
 */
export class UndiciHttpLibrary implements PromiseHttpLibrary {
  constructor(private readonly dispatcher: Dispatcher) {}

  async send(request: RequestContext): Promise<ResponseContext> {
    const url = new URL(request.getUrl());
    const body = request.getBody();
    if (body !== undefined && typeof body !== 'string') {
      // client-node sends JSON text for every call Hallmark makes (TokenReview, Pod).
      throw new TypeError('only string request bodies are supported');
    }
    const response = await this.dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: request.getHttpMethod() as Dispatcher.HttpMethod,
      headers: request.getHeaders(),
      body,
      signal: request.getSignal(),
    });
    const text = await response.body.text();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return new ResponseContext(response.statusCode, headers, {
      text: () => Promise.resolve(text),
      binary: () => Promise.resolve(Buffer.from(text)),
    });
  }
}
