// `hallmark server`: validate configuration, start the server (or its workers), print how to use it, stop on signals.
import cluster from 'node:cluster';
import type { AdminBootstrap } from '../authn/index.js';
import { ConfigError, KNOWN_VARIABLES, loadServerConfig } from '../config/index.js';
import { serveAsWorker, startCluster, startServer } from '../server/index.js';
import { EXIT, parseVariableFlags, type CliIo, type Command } from './command.js';

const SERVER_VARIABLES = [
  'DATABASE_URL',
  ...KNOWN_VARIABLES.slice(0, KNOWN_VARIABLES.indexOf('HALLMARK_SERVER_URL')),
];

/** What the banner tells: a lone server's or a cluster's. */
interface Started {
  readonly url: string;
  readonly embedded: boolean;
  readonly bundleFile: string;
  readonly admin: AdminBootstrap;
  readonly workers?: number;
  readonly lost: Promise<Error>;
  close(): Promise<void>;
}

/** Prints the first-start banner; the admin key appears here and nowhere else, once. */
function banner(io: CliIo, server: Started): void {
  const workers = server.workers === undefined ? '' : `, ${server.workers} workers`;
  io.out(
    `Hallmark is listening on ${server.url}  (database: ${server.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'}${workers})`,
  );
  io.out(`  trust bundle:   ${server.bundleFile}`);
  if (server.admin.created) {
    io.out(`  admin API key:  ${server.admin.key}`);
    io.out(`                  (shown once; also saved to ${server.admin.file}, mode 0600)`);
  } else {
    io.out(`  admin API key:  created on first start; see ${server.admin.file}`);
  }
  io.out('  try:  curl --cacert ' + server.bundleFile + ' ' + server.url + '/readyz');
  io.out(
    '        hallmark policy load policy.yaml   |   hallmark secret set app/db-password < file',
  );
}

export const serverCommand: Command = {
  name: 'server',
  summary: 'run the Hallmark server (CA, authentication, secrets, audit)',
  usage: `hallmark server [--listen HOST:PORT] [--data-dir DIR] [--database-url URL] [--trust-domain TD] [...]

Every HALLMARK_* server variable (see docs/install.md) can also be given as a flag of the same name:
HALLMARK_DATA_DIR -> --data-dir. Without DATABASE_URL an embedded PostgreSQL runs in <data dir>/pg.`,
  async run(args, io) {
    const { flags } = parseVariableFlags(args, SERVER_VARIABLES);
    let config;
    try {
      config = loadServerConfig({ env: io.env, flags });
    } catch (err) {
      if (err instanceof ConfigError) {
        io.err(`hallmark: invalid configuration: ${err.message}`);
        return EXIT.usage;
      }
      throw err;
    }
    // A worker of the cluster: the primary prints, watches signals and owns the exit code.
    if (cluster.isWorker) return serveAsWorker(config);
    let server: Started;
    try {
      server = config.workers > 1 ? await startCluster(config) : await startServer(config);
    } catch (err) {
      // What only start-up can find out about the configuration (the PKCS#11 token, its PIN,
      // a key the database says is in it; a certificate file that does not fit): exit 2
      // naming the variable, like a bad value.
      if (err instanceof ConfigError) {
        io.err(`hallmark: invalid configuration: ${err.message}`);
        return EXIT.usage;
      }
      throw err;
    }
    banner(io, server);
    const lost = await new Promise<Error | undefined>((resolve) => {
      const stop = (): void => resolve(undefined);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      void server.lost.then(resolve);
    });
    if (lost !== undefined) {
      // One line on stderr, then a non-zero exit, so whatever runs the server restarts it.
      io.err(`hallmark: ${lost.message}`);
      await server.close();
      return EXIT.failure;
    }
    io.out('Hallmark is shutting down');
    await server.close();
    return EXIT.ok;
  },
};
