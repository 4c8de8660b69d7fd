// The pod attestor: a bearer token in, a verified WorkloadIdentity out, through exactly one
// TokenReview and one Pod GET (the two calls deploy/rbac.yaml allows).
import { HallmarkError } from '../errors/index.js';
import { ConcurrencyCap } from './concurrency-cap.js';
import type { KubernetesApi } from './kubernetes-api.js';
import { checkPod } from './pod-check.js';
import { checkTokenReview } from './token-review-check.js';
import type { WorkloadIdentity } from './workload-identity.js';

/** Options of {@link PodAttestor}. */
export interface PodAttestorOptions {
  /** The audience the projected token must carry; Hallmark's default is `hallmark`. */
  audience: string;
  /**
   * TokenReviews in flight at once, over all callers (`HALLMARK_TOKENREVIEW_CONCURRENCY`,
   * default {@link DEFAULT_TOKENREVIEW_CONCURRENCY}). Beyond it attestation is refused with
   * ERR_REQUEST_RATE_LIMITED and Kubernetes is not called.
   */
  maxConcurrentReviews?: number;
}

/** Default cap on TokenReviews in flight. */
export const DEFAULT_TOKENREVIEW_CONCURRENCY = 32;

// Projected tokens are 1–2 KB; anything far larger is refused before reaching Kubernetes.
const MAX_TOKEN_LENGTH = 16 * 1024;
// A JWS compact serialisation is base64url segments joined by dots (RFC 7515 §7.1); other
// characters cannot be a Kubernetes token, so they are refused without a call.
const TOKEN_CHARS = /^[A-Za-z0-9_\-.]+$/;

/**
 * Verifies that a bearer token belongs to a live pod. Identity comes only from the
 * TokenReview and the Pod object, never from the request body or a CSR (docs/security-model.md).
 */
export class PodAttestor {
  private readonly audience: string;
  private readonly reviews: ConcurrencyCap;

  constructor(
    private readonly api: KubernetesApi,
    options: PodAttestorOptions,
  ) {
    if (options.audience === '') {
      throw new HallmarkError('ERR_CONFIG_INVALID', { detail: 'attestation audience is empty' });
    }
    this.audience = options.audience;
    this.reviews = new ConcurrencyCap(
      options.maxConcurrentReviews ?? DEFAULT_TOKENREVIEW_CONCURRENCY,
    );
  }

  /** TokenReviews in flight now. */
  reviewsInFlight(): number {
    return this.reviews.inFlight;
  }

  /**
   * Attests the pod behind `token` (a projected ServiceAccount token).
   * @throws HallmarkError with an `ERR_ATTEST_*` code, or ERR_REQUEST_RATE_LIMITED when the
   *   TokenReview cap is reached; `detail` explains, never quoting the token.
   */
  async attest(token: string | undefined | null): Promise<WorkloadIdentity> {
    if (token === undefined || token === null || token.trim() === '') {
      throw new HallmarkError('ERR_ATTEST_TOKEN_MISSING', { detail: 'no bearer token' });
    }
    if (token.length > MAX_TOKEN_LENGTH || !TOKEN_CHARS.test(token)) {
      throw new HallmarkError('ERR_ATTEST_TOKEN_INVALID', {
        detail: `token is not a JWS compact serialisation (${token.length} chars)`,
      });
    }
    // Every bearer string reaches here before anyone is authenticated: the cap bounds what a
    // flood can cost the API server, whatever the number of addresses it comes from.
    if (!this.reviews.tryEnter()) {
      throw new HallmarkError('ERR_REQUEST_RATE_LIMITED', {
        detail: `${this.reviews.limit} TokenReviews already in flight`,
      });
    }
    let status;
    try {
      status = await this.api.reviewToken(token, [this.audience]);
    } finally {
      this.reviews.leave();
    }
    const subject = checkTokenReview(status, this.audience, token);
    const pod = await this.api.getPod(subject.namespace, subject.podName);
    return checkPod(pod, subject);
  }
}
