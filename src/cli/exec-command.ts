// `hallmark exec`: fetch the listed secrets in one batch, then run the command with them in its env.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppSecretsClient, DEFAULT_OUTPUT_DIR, isHallmarkClientError } from '../client/index.js';
import { ConfigError, EnvReader, rejectUnknownVariables } from '../config/index.js';
import { EXIT, UsageError, parseVariableFlags, type CliIo, type Command } from './command.js';
import { runChild } from './exec-child.js';
import {
  distinctPaths,
  namesFor,
  parseSecretFlags,
  parseSecretsFile,
  type SecretMap,
} from './exec-secret-map.js';

const VARIABLES = ['HALLMARK_SERVER_URL', 'HALLMARK_SERVER_BUNDLE', 'HALLMARK_OUTPUT_DIR'] as const;

/** Where to reach the server and which files prove who we are. */
interface ExecSettings {
  serverUrl: string;
  tokenFile: string;
  bundleFile: string;
}

function readSettings(
  io: CliIo,
  flags: Record<string, string>,
  tokenFlag: string | undefined,
): ExecSettings {
  rejectUnknownVariables(io.env);
  const reader = new EnvReader({ env: io.env, flags });
  const serverUrl = reader.optional('HALLMARK_SERVER_URL');
  if (serverUrl === undefined) {
    throw new ConfigError(
      'HALLMARK_SERVER_URL',
      'required (e.g. https://hallmark.hallmark.svc:8443)',
    );
  }
  if (!/^https:\/\/[^\s/]+/.test(serverUrl)) {
    throw new ConfigError('HALLMARK_SERVER_URL', `expected an https:// URL, got "${serverUrl}"`);
  }
  const dir = reader.string('HALLMARK_OUTPUT_DIR', DEFAULT_OUTPUT_DIR);
  return {
    serverUrl,
    tokenFile:
      tokenFlag ?? reader.optional('HALLMARK_ACCESS_TOKEN_FILE') ?? path.join(dir, 'access-token'),
    bundleFile: reader.optional('HALLMARK_SERVER_BUNDLE') ?? path.join(dir, 'bundle.pem'),
  };
}

/** One line naming what could not be fetched and the code, for the pod's log. */
function fetchFailure(map: SecretMap, err: unknown): string {
  const code = isHallmarkClientError(err)
    ? err.code
    : ((err as { code?: string }).code ?? 'ERR_INTERNAL');
  const message = (err as Error).message;
  const failedPath = isHallmarkClientError(err) ? err.path : undefined;
  if (failedPath !== undefined && namesFor(map, failedPath).length > 0) {
    return `hallmark exec: cannot fetch ${namesFor(map, failedPath).join(', ')} (${failedPath}): ${code}: ${message}; command not started`;
  }
  return `hallmark exec: cannot fetch secrets for ${[...map.keys()].join(', ')}: ${code}: ${message}; command not started`;
}

export const execCommand: Command = {
  name: 'exec',
  summary: 'run a command with secrets in its environment',
  usage: `hallmark exec (--secret NAME=path)... [--secrets-file F.yaml] [--token-file F] -- COMMAND [ARGS...]

Fetches every listed secret in one request (all or nothing), then runs COMMAND with them added
to its environment. If any secret cannot be fetched, prints one line naming the variable, the
path and the error code and exits 1 without starting COMMAND. SIGTERM, SIGINT and SIGHUP are
forwarded to COMMAND; the exit status is COMMAND's (128+N if it was killed by signal N; 127 if
it was not found, 126 if it could not be executed).

  --secret NAME=path   set NAME to the newest value of the secret at path (repeatable)
  --secrets-file F     a YAML mapping NAME: path (summon style; !var tags accepted)
  --token-file F       access token (default: HALLMARK_ACCESS_TOKEN_FILE or <output dir>/access-token)
  --server-url URL     HALLMARK_SERVER_URL (required)
  --server-bundle F    CA bundle of the server (default: <output dir>/bundle.pem)
  --output-dir DIR     HALLMARK_OUTPUT_DIR, the sidecar's directory (default: /run/hallmark)`,
  async run(args, io) {
    const split = args.indexOf('--');
    if (split === -1) throw new UsageError('put the command to run after "--"');
    const [command, ...commandArgs] = args.slice(split + 1);
    if (command === undefined || command === '') throw new UsageError('no command after "--"');
    const { flags, values, positionals } = parseVariableFlags(args.slice(0, split), VARIABLES, {
      secret: { type: 'string', multiple: true },
      'secrets-file': { type: 'string' },
      'token-file': { type: 'string' },
    });
    if (positionals.length > 0) {
      throw new UsageError(`unexpected argument "${positionals[0]}" before "--"`);
    }
    const map = new Map<string, string>();
    const secretsFile = values['secrets-file'] as string | undefined;
    if (secretsFile !== undefined) {
      let text: string;
      try {
        text = await readFile(secretsFile, 'utf8');
      } catch (err) {
        throw new UsageError(
          `${secretsFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      parseSecretsFile(text, secretsFile, map);
    }
    parseSecretFlags((values['secret'] as string[] | undefined) ?? [], map);
    if (map.size === 0)
      throw new UsageError('no secrets requested (use --secret or --secrets-file)');

    let settings: ExecSettings;
    try {
      settings = readSettings(io, flags, values['token-file'] as string | undefined);
    } catch (err) {
      if (err instanceof ConfigError) {
        io.err(`hallmark exec: invalid configuration: ${err.message}`);
        return EXIT.usage;
      }
      throw err;
    }

    const client = new AppSecretsClient({
      serverUrl: settings.serverUrl,
      tokenFile: settings.tokenFile,
      bundleFile: settings.bundleFile,
    });
    let fetched: Map<string, string>;
    try {
      fetched = await client.getSecrets(distinctPaths(map));
    } catch (err) {
      io.err(fetchFailure(map, err));
      return EXIT.failure;
    } finally {
      await client.close();
    }

    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(io.env)) if (value !== undefined) env[name] = value;
    for (const [name, secretPath] of map) {
      const value = fetched.get(secretPath) as string;
      // The environment block is NUL-terminated: such a value would be silently truncated.
      if (value.includes('\u0000')) {
        io.err(
          `hallmark exec: cannot pass ${name} (${secretPath}): the value contains a NUL character; command not started`,
        );
        return EXIT.failure;
      }
      env[name] = value;
    }
    const outcome = await runChild(command, commandArgs, env);
    if (!outcome.started) {
      io.err(
        `hallmark exec: cannot start ${JSON.stringify(command)}: ${outcome.error.code ?? outcome.error.message}`,
      );
    }
    return outcome.exitCode;
  },
};
