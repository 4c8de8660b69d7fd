// The I/O point of attestation: the two Kubernetes calls Hallmark's RBAC allows.
import type { Pod, TokenReviewStatus } from './kubernetes-objects.js';

/**
 * The Kubernetes API as attestation uses it: `create tokenreviews` and `get pods`, nothing
 * else (deploy/rbac.yaml). Implementations throw `ERR_ATTEST_FORBIDDEN` when Kubernetes
 * refuses Hallmark's own credentials (401/403) and `ERR_ATTEST_UNAVAILABLE` on timeouts,
 * 5xx and unreachable servers.
 */
export interface KubernetesApi {
  /** Creates a TokenReview with `spec.audiences` and returns its status. */
  reviewToken(token: string, audiences: readonly string[]): Promise<TokenReviewStatus>;
  /** Reads one pod; `null` when it does not exist (404). */
  getPod(namespace: string, name: string): Promise<Pod | null>;
}
