// The resources the test API serves once a request is authorized: TokenReview and Pod GET.
import type { PodStore } from './pod-store.js';
import type { RequestAttributes } from './request-attributes.js';
import { failure } from './status.js';
import type { TokenAuthority, TokenReviewStatusJson } from './token-authority.js';

/** An HTTP answer: status and JSON body. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** Answers authorized requests from the pod store and the token authority. */
export class ServedResources {
  private readonly reviewCache = new Map<
    string,
    { status: TokenReviewStatusJson; until: number }
  >();

  constructor(
    private readonly pods: PodStore,
    private readonly tokens: TokenAuthority,
    /** How long successful reviews are cached (ms); 0 = never. */
    private readonly reviewCacheMs: number,
  ) {}

  /** The answer to an authorized request. */
  async answer(attrs: RequestAttributes, body: string): Promise<ApiAnswer> {
    const { apiGroup, apiVersion, resource, subresource, verb, namespace, name } = attrs;
    if (
      apiGroup === 'authentication.k8s.io' &&
      apiVersion === 'v1' &&
      resource === 'tokenreviews'
    ) {
      if (verb === 'create' && !subresource) return this.tokenReview(body);
    }
    if (apiGroup === '' && apiVersion === 'v1' && resource === 'pods' && !subresource) {
      if (verb === 'get') {
        const pod = this.pods.peek(namespace, name);
        return pod === undefined
          ? { status: 404, body: failure(404, `pods "${name}" not found`, { name, kind: 'pods' }) }
          : { status: 200, body: pod };
      }
    }
    // Allowed by RBAC but not something this small API serves.
    return { status: 404, body: failure(404, 'the server could not find the requested resource') };
  }

  private async tokenReview(body: string): Promise<ApiAnswer> {
    let review: { spec?: { token?: unknown; audiences?: unknown } } | null;
    try {
      review = JSON.parse(body) as typeof review;
    } catch {
      return { status: 400, body: failure(400, 'the request body is not valid JSON') };
    }
    const token = review?.spec?.token;
    if (typeof token !== 'string' || token === '') {
      return {
        status: 400,
        body: failure(400, 'token is required for TokenReview in authentication'),
      };
    }
    const rawAudiences = review?.spec?.audiences;
    const audiences = Array.isArray(rawAudiences)
      ? rawAudiences.filter((a): a is string => typeof a === 'string')
      : [];
    const status = await this.review(token, audiences);
    return {
      status: 201,
      body: {
        kind: 'TokenReview',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: { token, ...(audiences.length > 0 ? { audiences } : {}) },
        status,
      },
    };
  }

  private async review(token: string, audiences: string[]): Promise<TokenReviewStatusJson> {
    if (this.reviewCacheMs <= 0) return this.tokens.review(token, audiences);
    const key = `${audiences.join('\n')}\n${token}`;
    // Test infrastructure imitating Kubernetes' authentication cache: real time.
    const hit = this.reviewCache.get(key);
    if (hit !== undefined && hit.until > Date.now()) return hit.status;
    const status = await this.tokens.review(token, audiences);
    if (status.authenticated === true) {
      this.reviewCache.set(key, { status, until: Date.now() + this.reviewCacheMs });
    }
    return status;
  }
}
