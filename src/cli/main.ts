// The `hallmark` command line: dispatches to subcommands; thin by design.
import { EXIT, UsageError, type CliIo, type Command } from './command.js';

/** A subcommand as the dispatcher knows it: loaded only when run, so `hallmark exec` does not
 * pay for the server's dependencies (the Kubernetes client alone takes seconds to load). */
interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** Every subcommand, in help order. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'server',
    summary: 'run the Hallmark server (CA, authentication, secrets, audit)',
    load: async () => (await import('./server-command.js')).serverCommand,
  },
  {
    name: 'sidecar',
    summary: 'keep an SVID and an access token fresh in a shared directory',
    load: async () => (await import('./sidecar-command.js')).sidecarCommand,
  },
  {
    name: 'exec',
    summary: 'fetch secrets in one batch, then run a command with them in its environment',
    load: async () => (await import('./exec-command.js')).execCommand,
  },
  {
    name: 'policy',
    summary: 'load or show the policy document (admin)',
    load: async () => (await import('./policy-command.js')).policyCommand,
  },
  {
    name: 'secret',
    summary: 'set or get a secret through the server (admin)',
    load: async () => (await import('./secret-command.js')).secretCommand,
  },
  {
    name: 'audit',
    summary: 'verify the tamper-evident audit chain',
    load: async () => (await import('./audit-command.js')).auditCommand,
  },
  {
    name: 'oidc',
    summary: 'write the OIDC discovery documents for static hosting',
    load: async () => (await import('./oidc-command.js')).oidcCommand,
  },
  {
    name: 'apikey',
    summary: 'rotate the admin API key (admin)',
    load: async () => (await import('./apikey-command.js')).apikeyCommand,
  },
  {
    name: 'compliance',
    summary: 'check the installation against PCI DSS, SOC 2 and NIST controls (admin)',
    load: async () => (await import('./compliance-command.js')).complianceCommand,
  },
  {
    name: 'ca',
    summary: 'rotate the certificate authority now (admin)',
    load: async () => (await import('./ca-command.js')).caCommand,
  },
];

function help(io: CliIo): void {
  io.out('usage: hallmark <command> [options]\n');
  for (const command of COMMANDS) io.out(`  ${command.name.padEnd(10)} ${command.summary}`);
  io.out("\nRun `hallmark <command> --help` for a command's options.");
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.err(`hallmark: unknown command "${name}"`);
    help(io);
    return EXIT.usage;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`usage: ${command.usage}`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`hallmark ${name}: ${err.message}`);
      io.err(`usage: ${command.usage.split('\n')[0] ?? ''}`);
      return EXIT.usage;
    }
    const code = (err as { code?: string }).code;
    io.err(`hallmark ${name}: ${code ? `${code}: ` : ''}${(err as Error).message}`);
    return EXIT.failure;
  }
}

/** The real process streams. */
export function processIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    stdin: process.stdin,
  };
}
