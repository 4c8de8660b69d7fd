// Request attributes: an HTTP request mapped to (verb, apiGroup, resource, ...) for RBAC.
// Mirrors kube-apiserver's RequestInfoFactory (k8s.io/apiserver/pkg/endpoints/request).

/** What RBAC sees of a request. */
export interface RequestAttributes {
  /** False for discovery and other non-resource URLs (`/api`, `/version`, `/_test/...`). */
  isResourceRequest: boolean;
  path: string;
  /** get, list, watch, create, update, patch, delete, deletecollection (or the lower-case method). */
  verb: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

const METHOD_VERBS: Record<string, string> = {
  POST: 'create',
  GET: 'get',
  HEAD: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

// Subresources of a namespace itself, not the start of a namespaced resource path.
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** Maps an HTTP method, path and query the way the real API server does. */
export function requestAttributes(
  method: string,
  path: string,
  query: URLSearchParams,
): RequestAttributes {
  const attrs: RequestAttributes = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
  };
  let parts = path.replace(/^\/+|\/+$/g, '').split('/');
  if (parts[0] === 'api' && parts.length >= 2) {
    attrs.apiVersion = parts[1]!;
    parts = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    attrs.apiGroup = parts[1]!;
    attrs.apiVersion = parts[2]!;
    parts = parts.slice(3);
  } else {
    return attrs;
  }
  if (parts.length === 0 || parts[0] === '') {
    // `/api/v1`, `/apis/<group>/<version>`: discovery documents.
    return attrs;
  }
  attrs.isResourceRequest = true;
  attrs.verb = METHOD_VERBS[method.toUpperCase()] ?? method.toLowerCase();
  if (parts[0] === 'watch' && attrs.verb === 'get') {
    // The deprecated `/api/v1/watch/...` form.
    attrs.verb = 'watch';
    parts = parts.slice(1);
  }
  if (parts[0] === 'namespaces' && parts.length > 1) {
    attrs.namespace = parts[1]!;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) {
      parts = parts.slice(2);
    }
  }
  attrs.resource = parts[0] ?? '';
  attrs.name = parts[1] ?? '';
  attrs.subresource = parts[2] ?? '';
  if (attrs.name === '') {
    if (attrs.verb === 'get') attrs.verb = 'list';
    if (attrs.verb === 'delete') attrs.verb = 'deletecollection';
  }
  if (attrs.verb === 'list') {
    const watch = query.get('watch');
    if (watch !== null && watch.toLowerCase() !== 'false' && watch !== '0') {
      attrs.verb = 'watch';
    }
  }
  return attrs;
}
