// How many server processes share the listener (`HALLMARK_WORKERS`): `auto` or a count.
import os from 'node:os';
import { ConfigError } from './config-error.js';
import type { EnvReader } from './env-reader.js';

/**
 * The most workers a server starts. Each holds a pool of up to 20 PostgreSQL connections; the
 * embedded cluster is sized for this many (see `embeddedMaxConnections`).
 */
export const MAX_WORKERS = 64;

/**
 * `HALLMARK_WORKERS`: `auto` is the cores this process may run on
 * (`os.availableParallelism()`, capped at {@link MAX_WORKERS}); otherwise an integer from 1.
 * The default is 1, one process as before: in a container the CPU limit, not the node's core
 * count, is what a pod may use, and replicas are how Kubernetes scales a Deployment.
 * @param cores the available parallelism (tests pass their own).
 */
export function readWorkers(reader: EnvReader, cores: number = os.availableParallelism()): number {
  const text = reader.string('HALLMARK_WORKERS', '1');
  if (text === 'auto') return Math.max(1, Math.min(MAX_WORKERS, cores));
  if (!/^[0-9]+$/.test(text))
    throw new ConfigError('HALLMARK_WORKERS', `expected auto or an integer, got "${text}"`);
  const count = Number(text);
  if (count < 1 || count > MAX_WORKERS)
    throw new ConfigError('HALLMARK_WORKERS', `must be auto or between 1 and ${MAX_WORKERS}`);
  return count;
}
