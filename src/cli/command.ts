// The shape of a CLI subcommand and the shared flag parsing that maps flags to variables.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { flagNameFor } from '../config/index.js';

/** Output streams, injectable so commands are testable in-process. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  stdin: NodeJS.ReadableStream;
}

/** A subcommand: runs with its own arguments and returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Thrown for bad command-line usage; printed with the command's usage line, exit 2. */
export class UsageError extends Error {}

/**
 * Parses `--flag value` options whose names mirror configuration variables
 * (`--listen` ↔ `HALLMARK_LISTEN`) and returns them keyed by variable name.
 */
export function parseVariableFlags(
  args: string[],
  variables: readonly string[],
  extra: ParseArgsConfig['options'] = {},
): { flags: Record<string, string>; values: Record<string, unknown>; positionals: string[] } {
  const options: NonNullable<ParseArgsConfig['options']> = { ...extra };
  const byFlag = new Map<string, string>();
  for (const variable of variables) {
    const flag = flagNameFor(variable);
    byFlag.set(flag, variable);
    options[flag] = { type: 'string' };
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const flags: Record<string, string> = {};
  for (const [flag, variable] of byFlag) {
    const value = parsed.values[flag];
    if (typeof value === 'string') flags[variable] = value;
  }
  return { flags, values: parsed.values, positionals: parsed.positionals };
}
