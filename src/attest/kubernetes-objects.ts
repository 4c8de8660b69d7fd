// The slices of Kubernetes objects attestation reads: TokenReviewStatus, UserInfo and Pod.
// Structural, so both client-node's models and raw API JSON fit.

/** authentication.k8s.io/v1 UserInfo. */
export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: { [key: string]: string[] };
}

/** authentication.k8s.io/v1 TokenReviewStatus. */
export interface TokenReviewStatus {
  authenticated?: boolean;
  audiences?: string[];
  error?: string;
  user?: UserInfo;
}

/** core/v1 Pod, the fields attestation checks. */
export interface Pod {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: { [key: string]: string };
    /** A Date from client-node, an RFC 3339 string in raw JSON; set once deletion began. */
    deletionTimestamp?: Date | string | null;
  };
  spec?: {
    serviceAccountName?: string;
    nodeName?: string;
  };
  status?: {
    phase?: string;
  };
}
