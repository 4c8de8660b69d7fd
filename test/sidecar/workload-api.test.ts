// The Workload API endpoint: the security header on every RPC, the optional WIT profile, the
// socket's mode, stop, and what start does with whatever is already at the socket path.
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import { IdentityFeed, SOCKET_MODE, startWorkloadApi } from '../../sidecar/index.js';
import type { JwtServerApi, WorkloadApiServer } from '../../sidecar/index.js';
import { MemoryLogger } from './fakes.js';
import { WorkloadApiClient, failureOf } from './workload-api-client.js';
import { waitFor } from './wait-for.js';
import { T0, createHarness } from './workload-api-harness.js';
import type { Harness } from './workload-api-harness.js';

describe('Workload API endpoint', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('refuses every RPC without the security header workload.spiffe.io: true (InvalidArgument)', async () => {
    await h.start();
    await h.advanceTo(T0, 2);
    for (const header of [false, 'True', 'yes'] as const) {
      for (const stream of [
        h.client.fetchX509Svid({ header }),
        h.client.fetchX509Bundles({ header }),
        h.client.fetchJwtBundles({ header }),
      ]) {
        const ended = await stream.ended();
        expect(ended).toEqual({
          code: status.INVALID_ARGUMENT,
          details:
            'ERR_WORKLOADAPI_HEADER_MISSING: the security header workload.spiffe.io: true is required',
        });
        expect(stream.messages).toEqual([]);
      }
      for (const call of [
        h.client.fetchJwtSvid({ audience: ['x'] }, { header }),
        h.client.validateJwtSvid({ audience: 'x', svid: 'a.b.c' }, { header }),
      ]) {
        expect((await failureOf(call)).code).toBe(status.INVALID_ARGUMENT);
      }
    }
    expect(h.server.jwtClients).toEqual([]);
  });

  it('answers Unimplemented for the optional WIT-SVID profile', async () => {
    await h.start();
    expect((await h.client.fetchWitSvid().ended()).code).toBe(status.UNIMPLEMENTED);
  });

  it('serves the socket with mode 0660 and removes it on stop; open streams end with Unavailable', async () => {
    const handle = await h.start();
    expect((await stat(h.config.workloadApiSocket!)).mode & 0o777).toBe(SOCKET_MODE);
    expect(SOCKET_MODE).toBe(0o660);
    await h.advanceTo(T0, 2);
    const stream = h.client.fetchX509Svid();
    await stream.message(1);
    await waitFor('stream registered', () => handle.workloadApi!.openStreams === 1);
    await handle.stop();
    expect(await stream.ended()).toEqual({
      code: status.UNAVAILABLE,
      details: 'ERR_WORKLOADAPI_STOPPING: the sidecar is stopping',
    });
    await expect(stat(h.config.workloadApiSocket!)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('Workload API socket at start', () => {
  let dir: string;
  let socketPath: string;
  const unusedJwtApi: JwtServerApi = {
    issueJwtSvid: () => Promise.reject(new Error('not used')),
    jwtAuthorities: () => Promise.reject(new Error('not used')),
  };
  const startOn = (at: string): Promise<WorkloadApiServer> =>
    startWorkloadApi({
      socketPath: at,
      identity: new IdentityFeed({ clock: systemClock }),
      jwtApi: unusedJwtApi,
      clock: systemClock,
      log: new MemoryLogger(),
    });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-wlsock-'));
    socketPath = path.join(dir, 'run', 'agent.sock');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Listens on `at` with a plain socket server; resolves once listening. */
  async function listenOn(at: string): Promise<Server> {
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(at, resolve));
    return server;
  }

  it('creates the directory and replaces a stale socket left by a previous run', async () => {
    await mkdir(path.dirname(socketPath));
    // A crashed run leaves its socket file behind with nothing listening on it.
    const crashed = await listenOn(`${socketPath}.old`);
    await rename(`${socketPath}.old`, socketPath);
    await new Promise((resolve) => crashed.close(resolve));
    const stale = await stat(socketPath);
    expect(stale.isSocket()).toBe(true);

    const api = await startOn(socketPath);
    const served = await stat(socketPath);
    expect(served.ino).not.toBe(stale.ino);
    expect(served.mode & 0o777).toBe(0o660);
    const client = new WorkloadApiClient(api.endpoint);
    expect((await client.fetchWitSvid().ended()).code).toBe(status.UNIMPLEMENTED);
    client.close();
    await api.stop();
    expect(await readdir(path.dirname(socketPath))).toEqual([]);
  });

  it('refuses a socket another process serves, leaving it alone', async () => {
    await mkdir(path.dirname(socketPath));
    const other = await listenOn(socketPath);
    try {
      await expect(startOn(socketPath)).rejects.toMatchObject({
        code: 'ERR_WORKLOADAPI_SOCKET_IN_USE',
      });
      expect((await stat(socketPath)).isSocket()).toBe(true);
      expect(await readdir(path.dirname(socketPath))).toEqual(['agent.sock']);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('refuses to replace a file that is not a socket', async () => {
    await mkdir(path.dirname(socketPath));
    await writeFile(socketPath, 'precious');
    await expect(startOn(socketPath)).rejects.toMatchObject({
      code: 'ERR_WORKLOADAPI_SOCKET_FAILED',
    });
    expect(await readFile(socketPath, 'utf8')).toBe('precious');
    expect(await readdir(path.dirname(socketPath))).toEqual(['agent.sock']);
  });

  it('a sidecar whose socket is taken does not start (and leaves nothing listening)', async () => {
    const harness = await createHarness();
    try {
      await mkdir(path.dirname(harness.config.workloadApiSocket!), { recursive: true });
      const other = await listenOn(harness.config.workloadApiSocket!);
      try {
        await expect(harness.start()).rejects.toMatchObject({
          code: 'ERR_WORKLOADAPI_SOCKET_IN_USE',
        });
        expect(harness.timers.pending.size).toBe(0);
      } finally {
        await new Promise((resolve) => other.close(resolve));
      }
    } finally {
      await harness.close();
    }
  });
});
