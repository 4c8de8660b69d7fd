// The kubeconfig's credentials as headers: worked out at most once a second, a failure never kept.
import { KubeConfig, RequestContext } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  CREDENTIALS_TTL_MS,
  KubeconfigCredentials,
} from '../../src/attest/kubeconfig-credentials.js';
import { ManualClock } from '../doubles/manual-clock.js';

function kubeconfig(user: Record<string, unknown>): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function authorization(credentials: KubeconfigCredentials): Promise<string | undefined> {
  const context = new RequestContext('https://127.0.0.1:6443/api/v1', 'GET' as never);
  await credentials.applySecurityAuthentication(context);
  return context.getHeaders().Authorization;
}

describe('kubeconfig credentials', () => {
  it('sends the bearer token, and a changed one after at most a second', async () => {
    const kc = kubeconfig({ token: 'first' });
    const clock = new ManualClock();
    const credentials = new KubeconfigCredentials(kc, clock);
    expect(await authorization(credentials)).toBe('Bearer first');
    (kc.users[0] as { token?: string }).token = 'second';
    clock.advance(CREDENTIALS_TTL_MS - 1);
    expect(await authorization(credentials)).toBe('Bearer first');
    clock.advance(1);
    expect(await authorization(credentials)).toBe('Bearer second');
  });

  it('sends basic auth for a username and password, and a token rather than both', async () => {
    const clock = new ManualClock();
    const basic = new KubeconfigCredentials(kubeconfig({ username: 'ops', password: 'pw' }), clock);
    expect(await authorization(basic)).toBe(`Basic ${Buffer.from('ops:pw').toString('base64')}`);
    const both = new KubeconfigCredentials(
      kubeconfig({ username: 'ops', password: 'pw', token: 't' }),
      clock,
    );
    expect(await authorization(both)).toBe('Bearer t');
  });

  it('carries impersonation, and tries again at once after a failure', async () => {
    const clock = new ManualClock();
    const kc = kubeconfig({ token: 't', impersonateUser: 'auditor' });
    const credentials = new KubeconfigCredentials(kc, clock);
    const context = new RequestContext('https://127.0.0.1:6443/api/v1', 'GET' as never);
    await credentials.applySecurityAuthentication(context);
    expect(context.getHeaders()['Impersonate-User']).toBe('auditor');

    // A certificate file that cannot be read fails the headers; fixed, the next call succeeds.
    const broken = kubeconfig({ token: 't', certFile: '/nonexistent/client.crt' });
    const failing = new KubeconfigCredentials(broken, clock);
    await expect(authorization(failing)).rejects.toThrow();
    (broken.users[0] as { certFile?: string }).certFile = undefined;
    expect(await authorization(failing)).toBe('Bearer t');
  });
});
