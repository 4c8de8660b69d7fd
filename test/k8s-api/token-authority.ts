// Projected ServiceAccount tokens: the test API issues them and reviews them (TokenReview)
// the way kube-apiserver's service-account JWT authenticator does.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT, compactVerify } from 'jose';
import type { PodStore } from './pod-store.js';

/** How a test wants a token minted. */
export interface IssueTokenOptions {
  namespace: string;
  /** Bind the token to this pod (it must exist); its uid and service account are used. */
  podName?: string;
  /** Service account; default the bound pod's, else `default`. Set it to forge a mismatch. */
  serviceAccount?: string;
  /** Default `['hallmark']`, as Hallmark's projected volume asks. */
  audiences?: string[];
  /** Default 600, the projected volume's value in deploy/example. */
  expirationSeconds?: number;
  /** Issue it already expired (exp one hour ago). */
  expired?: boolean;
  /** Sign with a key the API server does not trust (a forged token). */
  untrustedKey?: boolean;
}

/** core/v1 UserInfo as TokenReview returns it. */
export interface UserInfoJson {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** authentication.k8s.io/v1 TokenReviewStatus as the API server serialises it. */
export interface TokenReviewStatusJson {
  authenticated?: boolean;
  user: UserInfoJson;
  audiences?: string[];
  error?: string;
}

interface ServiceAccountClaims {
  iss?: unknown;
  sub?: unknown;
  aud?: unknown;
  exp?: unknown;
  nbf?: unknown;
  jti?: unknown;
  'kubernetes.io'?: {
    namespace?: unknown;
    pod?: { name?: unknown; uid?: unknown };
    serviceaccount?: { name?: unknown; uid?: unknown };
    node?: { name?: unknown; uid?: unknown };
  };
}

const INVALID = 'invalid bearer token';

function refused(reason: string): TokenReviewStatusJson {
  // The union authenticator's aggregate error text: "[invalid bearer token, <reason>]".
  return { user: {}, error: `[${INVALID}, ${reason}]` };
}

function quoted(list: readonly string[]): string {
  return `[${list.map((a) => JSON.stringify(a)).join(' ')}]`;
}

/** Signs and reviews ServiceAccount tokens with one cached ES256 key. */
export class TokenAuthority {
  readonly issuer: string;
  /** Audiences assumed when a TokenReview names none (the API server's own). */
  readonly apiAudiences: string[];
  private readonly key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private readonly untrusted = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private readonly kid = randomBytes(16).toString('base64url');
  private readonly accountUids = new Map<string, string>();

  constructor(
    private readonly pods: PodStore,
    options: { issuer?: string; apiAudiences?: string[] } = {},
  ) {
    this.issuer = options.issuer ?? 'https://kubernetes.default.svc.cluster.local';
    this.apiAudiences = options.apiAudiences ?? [this.issuer];
  }

  /** The stable uid of a service account (created on first mention). */
  serviceAccountUid(namespace: string, name: string): string {
    const key = `${namespace}/${name}`;
    let uid = this.accountUids.get(key);
    if (uid === undefined) {
      uid = randomUUID();
      this.accountUids.set(key, uid);
    }
    return uid;
  }

  /** Mints a token shaped like a projected ServiceAccount token (KEP-1205 claims). */
  async issue(options: IssueTokenOptions): Promise<string> {
    const pod =
      options.podName === undefined
        ? undefined
        : this.pods.peek(options.namespace, options.podName);
    if (options.podName !== undefined && pod === undefined) {
      throw new Error(`cannot bind a token to missing pod ${options.namespace}/${options.podName}`);
    }
    const account = options.serviceAccount ?? pod?.spec.serviceAccountName ?? 'default';
    // Test infrastructure imitating Kubernetes: real time.
    const now = Math.floor(Date.now() / 1000);
    const lifetime = options.expirationSeconds ?? 600;
    const iat = options.expired ? now - 3600 - lifetime : now;
    const kubernetes: Record<string, unknown> = {
      namespace: options.namespace,
      serviceaccount: { name: account, uid: this.serviceAccountUid(options.namespace, account) },
    };
    if (pod !== undefined) {
      kubernetes.pod = { name: pod.metadata.name, uid: pod.metadata.uid };
      if (pod.spec.nodeName !== undefined) {
        kubernetes.node = { name: pod.spec.nodeName, uid: `node-uid-${pod.spec.nodeName}` };
      }
    }
    const signingKey = options.untrustedKey ? this.untrusted.privateKey : this.key.privateKey;
    return new SignJWT({ 'kubernetes.io': kubernetes })
      .setProtectedHeader({ alg: 'ES256', kid: this.kid })
      .setIssuer(this.issuer)
      .setSubject(`system:serviceaccount:${options.namespace}:${account}`)
      .setAudience(options.audiences ?? ['hallmark'])
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + lifetime)
      .setJti(randomUUID())
      .sign(signingKey);
  }

  /**
   * Reviews a token as kube-apiserver does: issuer, signature, audience intersection with
   * `audiences` (or the API's own), validity window, then the bound pod must still exist
   * with the same uid and not be past its deletionTimestamp.
   */
  async review(token: string, audiences: readonly string[]): Promise<TokenReviewStatusJson> {
    const claims = this.claimsIfOurs(token);
    if (claims === undefined) {
      // Not a JWT from this issuer: the authenticator abstains and nothing authenticates it.
      return { user: {} };
    }
    try {
      await compactVerify(token, this.publicKey(), { algorithms: ['ES256'] });
    } catch {
      return refused('Token could not be validated.');
    }
    const tokenAudiences = typeof claims.aud === 'string' ? [claims.aud] : strings(claims.aud);
    const requested = audiences.length > 0 ? [...audiences] : this.apiAudiences;
    const intersection = tokenAudiences.filter((a) => requested.includes(a));
    if (intersection.length === 0) {
      return refused(
        `token audiences ${quoted(tokenAudiences)} is invalid for the target audiences ${quoted(requested)}`,
      );
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || now >= claims.exp) {
      return refused('service account token has expired');
    }
    if (typeof claims.nbf === 'number' && now < claims.nbf) {
      return refused('service account token is not valid yet');
    }
    const k = claims['kubernetes.io'];
    const namespace = k?.namespace;
    const account = k?.serviceaccount;
    if (typeof namespace !== 'string' || typeof account?.name !== 'string') {
      return refused('service account token claims are malformed');
    }
    if (account.uid !== this.serviceAccountUid(namespace, account.name)) {
      return refused(`service account UID does not match claim (${String(account.uid)})`);
    }
    const extra: Record<string, string[]> = {};
    if (typeof claims.jti === 'string') {
      extra['authentication.kubernetes.io/credential-id'] = [`JTI=${claims.jti}`];
    }
    if (k?.pod !== undefined) {
      const pod = this.pods.peek(namespace, String(k.pod.name));
      if (pod === undefined) return refused('service account token has been invalidated');
      const deletion = pod.metadata.deletionTimestamp;
      if (deletion !== undefined && Date.parse(deletion) < Date.now()) {
        return refused('service account token has been invalidated');
      }
      if (pod.metadata.uid !== k.pod.uid) {
        return refused(
          `pod UID (${pod.metadata.uid}) does not match service account pod ref claim (${String(k.pod.uid)})`,
        );
      }
      extra['authentication.kubernetes.io/pod-name'] = [pod.metadata.name];
      extra['authentication.kubernetes.io/pod-uid'] = [pod.metadata.uid];
      if (typeof k.node?.name === 'string') {
        extra['authentication.kubernetes.io/node-name'] = [k.node.name];
        extra['authentication.kubernetes.io/node-uid'] = [String(k.node.uid)];
      }
    }
    return {
      authenticated: true,
      user: {
        username: `system:serviceaccount:${namespace}:${account.name}`,
        uid: account.uid,
        groups: [
          'system:serviceaccounts',
          `system:serviceaccounts:${namespace}`,
          'system:authenticated',
        ],
        extra,
      },
      audiences: intersection,
    };
  }

  private publicKey(): KeyObject {
    return this.key.publicKey;
  }

  private claimsIfOurs(token: string): ServiceAccountClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
      if (claims === null || typeof claims !== 'object') return undefined;
      const c = claims as ServiceAccountClaims;
      return c.iss === this.issuer ? c : undefined;
    } catch {
      return undefined;
    }
  }
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
