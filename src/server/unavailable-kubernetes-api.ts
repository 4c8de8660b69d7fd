// The Kubernetes API when none is configured (a laptop `npm start`): attestation fails closed.
import type { KubernetesApi, Pod, TokenReviewStatus } from '../attest/index.js';
import { HallmarkError } from '../errors/index.js';

/**
 * Used when neither `HALLMARK_KUBECONFIG` nor an in-cluster service account is available, so
 * the server still starts (secrets, policy, audit work) and every attestation is refused
 * with 503 `ERR_ATTEST_UNAVAILABLE` naming the missing setting in the log.
 */
export class UnavailableKubernetesApi implements KubernetesApi {
  reviewToken(_token: string, _audiences: readonly string[]): Promise<TokenReviewStatus> {
    return Promise.reject(this.#error());
  }

  getPod(_namespace: string, _name: string): Promise<Pod | null> {
    return Promise.reject(this.#error());
  }

  #error(): HallmarkError {
    return new HallmarkError('ERR_ATTEST_UNAVAILABLE', {
      detail: 'no Kubernetes API configured: set HALLMARK_KUBECONFIG or run in a cluster',
    });
  }
}
