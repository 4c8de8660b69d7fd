// The example app: its sidecar and `hallmark exec` are wired to the server, and policy.yaml
// registers it and grants exactly the secrets it asks for.
import { parseSecretPath } from '../../src/secrets/index.js';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { loadServerConfig, rejectUnknownVariables } from '../../src/config/index.js';
import { canAccess, compilePolicy, findRegistration } from '../../src/policy/index.js';
import { loadSidecarConfig } from '../../sidecar/index.js';
import { readRepoFile } from './deploy-files.js';
import { findObject } from './deploy-inventory.js';
import { containerEnv, containerNamed, mountFor } from './pod-env.js';

const app = findObject('Deployment', 'demo-app').object as unknown as V1Deployment;
const template = app.spec!.template;
const pod = template.spec as V1PodSpec;
const sidecar = containerNamed(pod, 'hallmark-sidecar');
const main = containerNamed(pod, 'demo-app');
const namespace = app.metadata?.namespace as string;

const serverPod = (findObject('Deployment', 'hallmark-server').object as unknown as V1Deployment)
  .spec!.template.spec as V1PodSpec;
const serverConfig = loadServerConfig({
  env: containerEnv(containerNamed(serverPod, 'server'), { DATABASE_URL: 'postgresql://x/y' }),
});
const sidecarConfig = loadSidecarConfig({ env: containerEnv(sidecar) });

/** `hallmark exec` arguments: the `--secret NAME=path` pairs and the command after `--`. */
function parseExec(args: readonly string[]): { secrets: Map<string, string>; command: string[] } {
  const split = args.indexOf('--');
  const secrets = new Map<string, string>();
  args.slice(1, split).forEach((arg, i, flags) => {
    const value = arg === '--secret' ? flags[i + 1] : /^--secret=(.*)$/.exec(arg)?.[1];
    if (value === undefined) return;
    const [name, secretPath] = value.split('=') as [string, string];
    secrets.set(name, secretPath);
  });
  return { secrets, command: args.slice(split + 1) };
}

describe('example app: the native sidecar', () => {
  it('is an init container with restartPolicy Always running `hallmark sidecar`', () => {
    expect(pod.initContainers?.map((c) => c.name)).toEqual(['hallmark-sidecar']);
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.args).toEqual(['sidecar']);
  });

  it('holds the app back until its /healthz reports the credentials written', () => {
    const port = sidecar.ports?.find((p) => p.name === sidecar.startupProbe?.httpGet?.port);
    expect(sidecar.startupProbe?.httpGet?.path).toBe('/healthz');
    expect(port?.containerPort).toBe(sidecarConfig.healthListen.port);
    expect(sidecar.readinessProbe?.httpGet?.path).toBe('/healthz');
  });

  it('passes the sidecar start-up checks and calls the server at its public URL', () => {
    expect(sidecarConfig.serverUrl).toBe(serverConfig.publicUrl);
    expect(sidecarConfig.once).toBe(false);
  });

  it('reads a projected token for audience hallmark, 600 s, bound to the pod', () => {
    const { mountPath, volume } = mountFor(pod, sidecar, sidecarConfig.tokenPath);
    const sources = volume.projected?.sources ?? [];
    expect(sources).toEqual([
      {
        serviceAccountToken: {
          audience: serverConfig.kubernetesAudience,
          expirationSeconds: 600,
          path: path.posix.relative(mountPath, sidecarConfig.tokenPath),
        },
      },
    ]);
    expect(serverConfig.kubernetesAudience).toBe('hallmark');
  });

  it('trusts the server through the published trust bundle ConfigMap', () => {
    const bundle = sidecarConfig.serverBundlePath as string;
    const { mountPath, volume } = mountFor(pod, sidecar, bundle);
    expect(volume.configMap?.name).toBe('hallmark-bundle');
    expect(volume.configMap?.items).toEqual([
      { key: 'bundle.pem', path: path.posix.relative(mountPath, bundle) },
    ]);
  });

  it('writes into an in-memory emptyDir shared read-only with the app', () => {
    const written = mountFor(pod, sidecar, sidecarConfig.outputDir);
    expect(written.mountPath).toBe('/run/hallmark');
    expect(written.volume.emptyDir?.medium).toBe('Memory');
    const read = mountFor(pod, main, sidecarConfig.outputDir);
    expect(read.volume.name).toBe(written.volume.name);
    const appMount = main.volumeMounts?.find((m) => m.name === written.volume.name);
    expect(appMount?.readOnly).toBe(true);
    expect(sidecar.volumeMounts?.find((m) => m.name === written.volume.name)?.readOnly).not.toBe(
      true,
    );
  });
});

describe('example app: hallmark exec and policy.yaml', () => {
  const exec = parseExec(main.args ?? []);
  const policy = compilePolicy(readRepoFile('deploy/example/policy.yaml'), {
    trustDomain: serverConfig.trustDomain,
    maxTtlSeconds: serverConfig.maxSvidTtlSeconds,
  });
  const registration = findRegistration(policy, {
    namespace,
    serviceAccount: pod.serviceAccountName as string,
    labels: template.metadata?.labels ?? {},
  });

  it('starts the app through `hallmark exec` reading the sidecar directory', () => {
    expect(main.args?.[0]).toBe('exec');
    expect(exec.secrets).toEqual(new Map([['DB_PASSWORD', 'demo/db-password']]));
    const env = containerEnv(main);
    rejectUnknownVariables(env);
    expect(env.HALLMARK_SERVER_URL).toBe(serverConfig.publicUrl);
    expect(env.HALLMARK_OUTPUT_DIR).toBe(sidecarConfig.outputDir);
    expect(env.SPIFFE_ENDPOINT_SOCKET).toBe(`unix://${sidecarConfig.outputDir}/agent.sock`);
  });

  it('runs as the demo-app ServiceAccount, which exists in its namespace', () => {
    const account = findObject('ServiceAccount', pod.serviceAccountName as string).object;
    expect(account.metadata?.namespace).toBe(namespace);
  });

  it('is registered by policy.yaml under the server trust domain', () => {
    expect(registration?.spiffeId.toString()).toBe(
      `spiffe://${serverConfig.trustDomain}/ns/${namespace}/sa/${pod.serviceAccountName}`,
    );
  });

  it('may read every secret it asks for, and nothing next to it', () => {
    const id = registration?.spiffeId.toString() as string;
    for (const secretPath of exec.secrets.values()) {
      expect(canAccess(policy, id, 'read', parseSecretPath(secretPath)), secretPath).toBe(true);
      expect(canAccess(policy, id, 'write', parseSecretPath(secretPath)), secretPath).toBe(false);
    }
    expect(canAccess(policy, id, 'read', parseSecretPath('demo/other'))).toBe(false);
    expect(policy.registrations).toHaveLength(1);
  });

  it('the demo command prints the length of the secret it was given', async () => {
    const [program, ...args] = exec.command;
    expect(program).toBe('node');
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH, DB_PASSWORD: 'twelve-chars' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0] as string);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code} before printing`)));
      });
      expect(line).toBe('demo-app: connected with secret of length 12');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
