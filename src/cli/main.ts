// The `hallmark` command line: dispatches to subcommands; thin by design.
import { EXIT, UsageError, type CliIo, type Command } from './command.js';
import { auditCommand } from './audit-command.js';
import { caCommand } from './ca-command.js';
import { execCommand } from './exec-command.js';
import { policyCommand } from './policy-command.js';
import { secretCommand } from './secret-command.js';
import { serverCommand } from './server-command.js';
import { sidecarCommand } from './sidecar-command.js';

/** Every subcommand, in help order. */
export const COMMANDS: readonly Command[] = [
  serverCommand,
  sidecarCommand,
  execCommand,
  policyCommand,
  secretCommand,
  auditCommand,
  caCommand,
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
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`hallmark: unknown command "${name}"`);
    help(io);
    return EXIT.usage;
  }
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
