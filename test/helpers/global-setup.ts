// Vitest global setup: one embedded PostgreSQL cluster for the whole run; each test file makes
// its own databases in it (see database.ts), so files run in parallel without sharing state.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedCluster } from '../../src/db/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

let cluster: EmbeddedCluster | undefined;
let dir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-test-pg-'));
  // initdb runs as the postgres user when we are root: it must be able to traverse this dir.
  await chmod(dir, 0o711);
  cluster = await startEmbeddedPostgres({
    dir: path.join(dir, 'pg'),
    // Durability is not under test here and fsync dominates run time on CI disks.
    settings: {
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '400',
    },
  });
  project.provide('pgAdminUrl', cluster.adminUrl);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}
