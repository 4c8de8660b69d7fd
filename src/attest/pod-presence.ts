// The pod re-check used after attestation (login): one Pod GET, is it still the same pod?
import type { KubernetesApi } from './kubernetes-api.js';
import { checkPodPresence } from './pod-check.js';
import type { PodReference } from './workload-identity.js';

/**
 * Confirms the pod an SVID was issued to still exists with the same uid and is neither
 * terminating nor finished, with one `GET pod`.
 * @throws HallmarkError ERR_AUTHN_POD_GONE; ERR_ATTEST_FORBIDDEN / ERR_ATTEST_UNAVAILABLE
 *   when Kubernetes cannot answer (callers fail closed).
 */
export async function checkPodStillPresent(api: KubernetesApi, ref: PodReference): Promise<void> {
  checkPodPresence(await api.getPod(ref.namespace, ref.podName), ref);
}
