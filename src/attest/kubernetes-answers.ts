// Kubernetes answers read as plain JSON: the slices attestation checks (kubernetes-objects.ts),
// every field type-checked, in place of client-node's typed deserialisation of whole objects.
import { ApiException } from '@kubernetes/client-node';
import type { Pod, TokenReviewStatus, UserInfo } from './kubernetes-objects.js';

/** An answer that is not the object Kubernetes documents: attestation fails closed on it. */
export class MalformedAnswer extends Error {
  constructor(what: string) {
    super(`malformed ${what} in the Kubernetes answer`);
    this.name = 'MalformedAnswer';
  }
}

/** One answer of the API server as the transport read it. */
export interface KubernetesAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new MalformedAnswer(what);
  return value as Json;
}

function string(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new MalformedAnswer(what);
  return value;
}

function strings(value: unknown, what: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw new MalformedAnswer(what);
  return value as string[];
}

/**
 * The JSON body of a successful answer; an `ApiException` (as client-node throws) for any
 * other status, carrying the body so the caller can report the API server's Status.
 */
export function answerJson(answer: KubernetesAnswer, operation: string): unknown {
  const { status, text } = answer;
  if (status < 200 || status > 299) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    throw new ApiException(status, `${operation}: HTTP ${status}`, text, headers);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MalformedAnswer(`${operation} body`);
  }
}

function userInfo(value: unknown): UserInfo | undefined {
  const user = object(value, 'status.user');
  if (user === undefined) return undefined;
  const extraJson = object(user.extra, 'status.user.extra');
  let extra: UserInfo['extra'];
  if (extraJson !== undefined) {
    extra = {};
    for (const [key, values] of Object.entries(extraJson))
      extra[key] = strings(values, `status.user.extra[${key}]`) ?? [];
  }
  return {
    username: string(user.username, 'status.user.username'),
    uid: string(user.uid, 'status.user.uid'),
    groups: strings(user.groups, 'status.user.groups'),
    extra,
  };
}

/** The status of a created authentication.k8s.io/v1 TokenReview. */
export function tokenReviewStatusOf(json: unknown): TokenReviewStatus {
  const status = object(object(json, 'TokenReview')?.status, 'status') ?? {};
  const authenticated = status.authenticated;
  if (authenticated !== undefined && typeof authenticated !== 'boolean')
    throw new MalformedAnswer('status.authenticated');
  return {
    authenticated,
    audiences: strings(status.audiences, 'status.audiences'),
    error: string(status.error, 'status.error'),
    user: userInfo(status.user),
  };
}

/** The fields of a core/v1 Pod that attestation and the presence checks read. */
export function podOf(json: unknown): Pod {
  const pod = object(json, 'Pod') ?? {};
  const metadata = object(pod.metadata, 'metadata') ?? {};
  const labelsJson = object(metadata.labels, 'metadata.labels');
  let labels: Record<string, string> | undefined;
  if (labelsJson !== undefined) {
    labels = {};
    for (const [key, value] of Object.entries(labelsJson))
      labels[key] = string(value, `metadata.labels[${key}]`) ?? '';
  }
  const spec = object(pod.spec, 'spec') ?? {};
  const status = object(pod.status, 'status') ?? {};
  return {
    metadata: {
      name: string(metadata.name, 'metadata.name'),
      namespace: string(metadata.namespace, 'metadata.namespace'),
      uid: string(metadata.uid, 'metadata.uid'),
      labels,
      deletionTimestamp: string(metadata.deletionTimestamp, 'metadata.deletionTimestamp'),
    },
    spec: {
      serviceAccountName: string(spec.serviceAccountName, 'spec.serviceAccountName'),
      nodeName: string(spec.nodeName, 'spec.nodeName'),
    },
    status: { phase: string(status.phase, 'status.phase') },
  };
}
