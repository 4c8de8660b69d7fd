// Kubernetes `Status` failure bodies (meta/v1 Status), shaped like kube-apiserver's.
import type { RequestAttributes } from './request-attributes.js';

/** meta/v1 Status with `status: Failure`. */
export interface StatusJson {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string };
  code: number;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A failure Status with the conventional reason for `code`. */
export function failure(
  code: number,
  message: string,
  details?: StatusJson['details'],
): StatusJson {
  const body: StatusJson = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: REASONS[code] ?? 'Unknown',
    code,
  };
  if (details !== undefined) body.details = details;
  return body;
}

/** The 403 kube-apiserver's RBAC authorizer answers, with its message format. */
export function forbidden(username: string, a: RequestAttributes): StatusJson {
  if (!a.isResourceRequest) {
    return failure(403, `forbidden: User "${username}" cannot ${a.verb} path "${a.path}"`);
  }
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const groupResource = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const subject = a.name ? `${groupResource} "${a.name}"` : groupResource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  const details: NonNullable<StatusJson['details']> = { kind: a.resource };
  if (a.name) details.name = a.name;
  if (a.apiGroup) details.group = a.apiGroup;
  return failure(
    403,
    `${subject} is forbidden: User "${username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}`,
    details,
  );
}
