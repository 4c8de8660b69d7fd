// Step 2 of attestation, pure: what the live Pod must look like for the token's subject.
import { HallmarkError } from '../errors/index.js';
import type { Pod } from './kubernetes-objects.js';
import type { TokenSubject, WorkloadIdentity } from './workload-identity.js';

// Pending (scheduled or starting) and Running pods hold live workloads; Succeeded, Failed
// and Unknown do not (core/v1 PodPhase).
const LIVE_PHASES: ReadonlySet<string> = new Set(['Pending', 'Running']);

function hasDeletionTimestamp(pod: Pod): boolean {
  const ts = pod.metadata?.deletionTimestamp;
  return ts !== undefined && ts !== null && ts !== '';
}

/**
 * Checks the pod named by a verified token and returns the workload identity.
 * Order: exists, same uid (and name/namespace), not terminating, Pending or Running,
 * same service account.
 * @throws HallmarkError ERR_ATTEST_POD_NOT_FOUND, ERR_ATTEST_POD_UID_MISMATCH,
 *   ERR_ATTEST_POD_TERMINATING, ERR_ATTEST_POD_NOT_RUNNING, ERR_ATTEST_SERVICE_ACCOUNT_MISMATCH
 */
export function checkPod(pod: Pod | null, subject: TokenSubject): WorkloadIdentity {
  const ref = `${subject.namespace}/${subject.podName}`;
  if (pod === null) {
    throw new HallmarkError('ERR_ATTEST_POD_NOT_FOUND', { detail: `pod ${ref} not found` });
  }
  const meta = pod.metadata ?? {};
  if (
    meta.uid !== subject.podUid ||
    (meta.name !== undefined && meta.name !== subject.podName) ||
    (meta.namespace !== undefined && meta.namespace !== subject.namespace)
  ) {
    // Typically a pod recreated under the same name (StatefulSet): the token was for the old one.
    throw new HallmarkError('ERR_ATTEST_POD_UID_MISMATCH', {
      detail: `pod ${ref} has uid ${String(meta.uid)}, token was bound to ${subject.podUid}`,
    });
  }
  if (hasDeletionTimestamp(pod)) {
    throw new HallmarkError('ERR_ATTEST_POD_TERMINATING', {
      detail: `pod ${ref} is terminating`,
    });
  }
  const phase = pod.status?.phase ?? '';
  if (!LIVE_PHASES.has(phase)) {
    throw new HallmarkError('ERR_ATTEST_POD_NOT_RUNNING', {
      detail: `pod ${ref} is in phase ${phase || '(none)'}`,
    });
  }
  const podAccount = pod.spec?.serviceAccountName ?? '';
  if (podAccount !== subject.serviceAccount) {
    throw new HallmarkError('ERR_ATTEST_SERVICE_ACCOUNT_MISMATCH', {
      detail: `pod ${ref} runs as ${podAccount || '(none)'}, token is for ${subject.serviceAccount}`,
    });
  }
  return Object.freeze({
    namespace: subject.namespace,
    serviceAccount: subject.serviceAccount,
    podName: subject.podName,
    podUid: subject.podUid,
    labels: Object.freeze({ ...(meta.labels ?? {}) }),
    nodeName: pod.spec?.nodeName || null,
  });
}
