// An in-memory KubernetesApi for unit tests of code that sits above attestation.
import type { KubernetesApi, Pod, TokenReviewStatus } from '../../src/attest/index.js';

/**
 * Answers TokenReviews from a table of token → status and pod reads from a map. It does
 * not verify anything itself: tests state what Kubernetes would say.
 */
export class InMemoryKubernetesApi implements KubernetesApi {
  private readonly reviews = new Map<string, TokenReviewStatus>();
  private readonly pods = new Map<string, Pod>();
  /** Every call made, in order, e.g. `review`, `get payments/api-0`. */
  readonly calls: string[] = [];

  /** What a TokenReview of `token` returns (default: not authenticated). */
  setReview(token: string, status: TokenReviewStatus): void {
    this.reviews.set(token, status);
  }

  /** Stores (or replaces) a pod under its metadata namespace and name. */
  setPod(pod: Pod): void {
    this.pods.set(`${pod.metadata?.namespace}/${pod.metadata?.name}`, structuredClone(pod));
  }

  /** Removes a pod. */
  deletePod(namespace: string, name: string): void {
    this.pods.delete(`${namespace}/${name}`);
  }

  reviewToken(token: string, audiences: readonly string[]): Promise<TokenReviewStatus> {
    this.calls.push('review');
    const status = this.reviews.get(token);
    if (status === undefined) return Promise.resolve({ user: {} });
    // As the API server does: only audiences both requested and held are echoed.
    const audiencesHeld = status.audiences ?? [];
    return Promise.resolve({
      ...structuredClone(status),
      audiences: audiencesHeld.filter((a) => audiences.includes(a)),
    });
  }

  getPod(namespace: string, name: string): Promise<Pod | null> {
    this.calls.push(`get ${namespace}/${name}`);
    const pod = this.pods.get(`${namespace}/${name}`);
    return Promise.resolve(pod === undefined ? null : structuredClone(pod));
  }
}
