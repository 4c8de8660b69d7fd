// The verified identity attestation produces, and the token subject it starts from.

/** What a successful TokenReview says about a pod-bound ServiceAccount token. */
export interface TokenSubject {
  namespace: string;
  serviceAccount: string;
  /** The ServiceAccount's uid, when the API server reported it. */
  serviceAccountUid: string | null;
  podName: string;
  podUid: string;
}

/**
 * A workload verified by TokenReview and the live Pod object. Every field comes from the
 * Kubernetes API; nothing from the caller's request body or CSR.
 */
export interface WorkloadIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly podName: string;
  readonly podUid: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The node the pod is scheduled on; null while it is still Pending unscheduled. */
  readonly nodeName: string | null;
}
