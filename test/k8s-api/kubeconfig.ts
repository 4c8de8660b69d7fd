// Kubeconfig documents pointing a client at the test Kubernetes API.
import { stringify } from 'yaml';

/** What a kubeconfig needs to reach the test API as one user. */
export interface KubeconfigSpec {
  server: string;
  caPem: string;
  token: string;
  /** Context and user name; default `hallmark`. */
  user?: string;
}

/** A kubeconfig YAML (clusters/users/contexts, bearer-token user) loadable by client-node. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  const user = spec.user ?? 'hallmark';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'hallmark-test',
        cluster: {
          server: spec.server,
          'certificate-authority-data': Buffer.from(spec.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: user, user: { token: spec.token } }],
    contexts: [
      { name: 'hallmark-test', context: { cluster: 'hallmark-test', user, namespace: 'hallmark' } },
    ],
    'current-context': 'hallmark-test',
    preferences: {},
  });
}
