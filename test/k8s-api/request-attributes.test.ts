import { describe, expect, it } from 'vitest';
import { requestAttributes } from './index.js';

function attrs(method: string, url: string) {
  const u = new URL(url, 'https://127.0.0.1');
  const a = requestAttributes(method, u.pathname, u.searchParams);
  return [
    a.isResourceRequest,
    a.verb,
    a.apiGroup,
    a.subresource ? `${a.resource}/${a.subresource}` : a.resource,
    a.namespace,
    a.name,
  ];
}

describe('requestAttributes', () => {
  it.each<[string, string, (string | boolean)[]]>([
    ['GET', '/api/v1/namespaces/ns/pods/p', [true, 'get', '', 'pods', 'ns', 'p']],
    ['HEAD', '/api/v1/namespaces/ns/pods/p', [true, 'get', '', 'pods', 'ns', 'p']],
    ['GET', '/api/v1/namespaces/ns/pods', [true, 'list', '', 'pods', 'ns', '']],
    ['GET', '/api/v1/pods', [true, 'list', '', 'pods', '', '']],
    ['GET', '/api/v1/namespaces/ns/pods?watch=true', [true, 'watch', '', 'pods', 'ns', '']],
    ['GET', '/api/v1/namespaces/ns/pods?watch=1', [true, 'watch', '', 'pods', 'ns', '']],
    ['GET', '/api/v1/namespaces/ns/pods?watch=false', [true, 'list', '', 'pods', 'ns', '']],
    ['GET', '/api/v1/watch/namespaces/ns/pods', [true, 'watch', '', 'pods', 'ns', '']],
    ['POST', '/api/v1/namespaces/ns/pods', [true, 'create', '', 'pods', 'ns', '']],
    ['PUT', '/api/v1/namespaces/ns/pods/p', [true, 'update', '', 'pods', 'ns', 'p']],
    ['PATCH', '/api/v1/namespaces/ns/pods/p', [true, 'patch', '', 'pods', 'ns', 'p']],
    ['DELETE', '/api/v1/namespaces/ns/pods/p', [true, 'delete', '', 'pods', 'ns', 'p']],
    ['DELETE', '/api/v1/namespaces/ns/pods', [true, 'deletecollection', '', 'pods', 'ns', '']],
    ['GET', '/api/v1/namespaces/ns/pods/p/log', [true, 'get', '', 'pods/log', 'ns', 'p']],
    ['POST', '/api/v1/namespaces/ns/pods/p/exec', [true, 'create', '', 'pods/exec', 'ns', 'p']],
    ['GET', '/api/v1/namespaces/ns/pods/p/exec', [true, 'get', '', 'pods/exec', 'ns', 'p']],
    ['GET', '/api/v1/namespaces/ns', [true, 'get', '', 'namespaces', 'ns', 'ns']],
    [
      'PUT',
      '/api/v1/namespaces/ns/finalize',
      [true, 'update', '', 'namespaces/finalize', 'ns', 'ns'],
    ],
    ['GET', '/api/v1/namespaces', [true, 'list', '', 'namespaces', '', '']],
    [
      'POST',
      '/apis/authentication.k8s.io/v1/tokenreviews',
      [true, 'create', 'authentication.k8s.io', 'tokenreviews', '', ''],
    ],
    [
      'GET',
      '/apis/apps/v1/namespaces/ns/deployments/d/scale',
      [true, 'get', 'apps', 'deployments/scale', 'ns', 'd'],
    ],
    ['GET', '/api', [false, 'get', '', '', '', '']],
    ['GET', '/api/v1', [false, 'get', '', '', '', '']],
    ['GET', '/apis/authentication.k8s.io/v1', [false, 'get', 'authentication.k8s.io', '', '', '']],
    ['GET', '/version', [false, 'get', '', '', '', '']],
    ['POST', '/_test/pods', [false, 'post', '', '', '', '']],
  ])('%s %s', (method, url, expected) => {
    expect(attrs(method, url)).toEqual(expected);
  });
});
