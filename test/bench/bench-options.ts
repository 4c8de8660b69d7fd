// The command line of `npm run bench`: which rows to run, how hard, and for how long.
import { parseArgs } from 'node:util';

/** Every row the bench can run, by the name `--only` takes, in the order they run. */
export const ROWS = {
  raw: 'raw crypto.sign P-256: the yardstick of every ratio (always measured)',
  'csr-floor': 'raw verify, JWK key import, both on a new key, and the engine ceiling with sign',
  engine: 'certificate engine, CSR in -> checked SVID out, in-process',
  hsm: 'P-256 signing and the engine with its CA in SoftHSM2 (PKCS#11), 1 and 16 in flight',
  audit: 'audit appends, 256 concurrent, durable embedded PostgreSQL, with and without checkpoints',
  checkpoint: 'one signed audit checkpoint round; archive and offline verify of 100k rows',
  policy: 'policy compile of 50k registrations + 50k grants, and a 1 MiB YAML load',
  sink: 'audit sink: committed rows delivered to rsyslogd over TLS (needs rsyslogd)',
  'k8s-floor': 'one HTTPS GET round trip through undici to a process answering a Pod',
  'k8s-client': "attestation's TokenReview + GET pod through the client-node adapter, client CPU",
  noop: 'HTTPS route doing nothing (fastify alone), its own process',
  'login-floor': 'only what a login cannot skip: an ES256 JWT and an audit row',
  'batch-floor': 'only what a 10-path batch cannot skip: 10 AES-GCM opens and an audit row',
  svid: 'POST /v1/svid/x509',
  cfssl: 'cfssl serve sign under the same load (needs cfssl on the PATH)',
  login: 'POST /v1/authn/login (mutual TLS)',
  batch: 'POST /v1/secrets/batch, 10 paths',
  storm: 'restart storm: 2,000 new pods ask for an SVID at once',
  sidecar: 'sidecar start -> access token, and its RSS',
} as const;

/** A row's name. */
export type RowName = keyof typeof ROWS;

/** Names standing for several rows. */
const GROUPS: Record<string, RowName[]> = {
  floors: ['noop', 'login-floor', 'batch-floor'],
  routes: ['svid', 'login', 'batch'],
};

/** What one bench run does. */
export interface BenchOptions {
  quick: boolean;
  rows: ReadonlySet<RowName>;
  /** Connections of every route's load (default 32). */
  connections: number;
  /** Connections the restart storm's pods share (default 128). */
  stormConnections: number;
  /** Pods in the restart storm (default 2,000; 200 with --quick). */
  stormPods: number;
  /** Extra variables for `hallmark server` (`--server-env NAME=VALUE`, repeatable). */
  serverEnv: Record<string, string>;
  /**
   * `--workers 1,2`: the Hallmark rows once per count, each on its own `hallmark server` with
   * that HALLMARK_WORKERS; undefined: one pass with the server's default.
   */
  workers: number[] | undefined;
  /**
   * `--compare NAME=VALUE`: a second pass of the Hallmark rows on a server with that variable
   * set too (repeatable: one setting, all of them at once), compared with the first.
   */
  compare: Record<string, string> | undefined;
  /** Node.js flags for `hallmark server` (`--server-node-arg`, repeatable), e.g. `--cpu-prof`. */
  serverNodeArgs: string[];
  help: boolean;
}

/** The usage text `--help` prints. */
export function usage(): string {
  const rows = Object.entries(ROWS)
    .map(([name, what]) => `  ${name.padEnd(12)} ${what}`)
    .join('\n');
  return `npm run bench -- [--quick] [--only ROW,...] [--connections N] [--storm-connections N]
                 [--storm-pods N] [--server-env NAME=VALUE ...] [--workers N,...]
                 [--compare NAME=VALUE ...] [--server-node-arg FLAG ...]

  --quick        short runs and a 200-pod storm: a smoke test of the bench, not figures
  --only         run only these rows (raw sign is always measured); groups:
                 floors = noop,login-floor,batch-floor; routes = svid,login,batch
  --server-env   set a variable of the measured hallmark server (e.g. HALLMARK_LOG_LEVEL=warn)
  --workers      run the hallmark rows once per HALLMARK_WORKERS count (e.g. 1,2), side by side
  --compare      run the hallmark rows again with this server variable set too, side by side
  --server-node-arg  a Node.js flag for the hallmark server (and its workers), e.g.
                 --server-node-arg=--cpu-prof --server-node-arg=--cpu-prof-dir=/tmp/prof

Rows:
${rows}`;
}

function positiveInteger(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${flag}: expected a positive integer`);
  return value;
}

function variables(flag: string, pairs: readonly string[]): Record<string, string> {
  const parsed: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`${flag}: expected NAME=VALUE, got "${pair}"`);
    parsed[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return parsed;
}

/** Parses the bench's arguments; throws (with the reason) on anything it does not know. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      connections: { type: 'string' },
      'storm-connections': { type: 'string' },
      'storm-pods': { type: 'string' },
      'server-env': { type: 'string', multiple: true },
      workers: { type: 'string' },
      'server-node-arg': { type: 'string', multiple: true },
      compare: { type: 'string', multiple: true },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const all = Object.keys(ROWS) as RowName[];
  let rows = new Set<RowName>(all);
  if (values.only !== undefined) {
    rows = new Set<RowName>(['raw']);
    for (const name of values.only.flatMap((list) => list.split(',')).map((n) => n.trim())) {
      if (name === '') continue;
      const group = GROUPS[name];
      if (group !== undefined) group.forEach((row) => rows.add(row));
      else if ((all as string[]).includes(name)) rows.add(name as RowName);
      else throw new Error(`--only: unknown row "${name}" (rows: ${all.join(', ')})`);
    }
  }
  const serverEnv = variables('--server-env', values['server-env'] ?? []);
  const compare = values.compare === undefined ? undefined : variables('--compare', values.compare);
  if (compare !== undefined && values.workers !== undefined)
    throw new Error('--compare: not together with --workers (one comparison per run)');
  const workers = values.workers
    ?.split(',')
    .map((count) => positiveInteger('--workers', count.trim(), 1));
  if (workers !== undefined && 'HALLMARK_WORKERS' in serverEnv)
    throw new Error('--workers: HALLMARK_WORKERS is set by --server-env too');
  return {
    quick: values.quick === true,
    rows,
    connections: positiveInteger('--connections', values.connections, 32),
    stormConnections: positiveInteger('--storm-connections', values['storm-connections'], 128),
    stormPods: positiveInteger('--storm-pods', values['storm-pods'], values.quick ? 200 : 2000),
    serverEnv,
    workers,
    compare,
    serverNodeArgs: values['server-node-arg'] ?? [],
    help: values.help === true,
  };
}
