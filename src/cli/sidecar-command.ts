// `hallmark sidecar`: validate configuration, then keep credentials fresh (or, with --once, write them and exit).
import { pino } from 'pino';
import { ConfigError } from '../config/index.js';
import { isHallmarkError } from '../errors/index.js';
import {
  SIDECAR_VARIABLES,
  loadSidecarConfig,
  runSidecarOnce,
  startSidecar,
} from '../../sidecar/index.js';
import type { SidecarConfig, SidecarLogger } from '../../sidecar/index.js';
import { EXIT, UsageError, parseVariableFlags } from './command.js';
import type { CliIo, Command } from './command.js';

/** JSON log lines through the command's output stream (stdout in the real process). */
function commandLogger(io: CliIo): SidecarLogger {
  return pino({ name: 'hallmark-sidecar' }, { write: (line: string) => io.out(line.trimEnd()) });
}

/** One clear stderr line for a failure: the code, the message, and the (secret-free) detail. */
function failureLine(err: unknown): string {
  if (isHallmarkError(err)) {
    const detail = err.detail !== undefined && err.detail !== err.message ? ` (${err.detail})` : '';
    return `hallmark sidecar: ${err.code}: ${err.message}${detail}`;
  }
  return `hallmark sidecar: ERR_INTERNAL: ${(err as Error)?.message ?? String(err)}`;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

async function runLongLived(config: SidecarConfig, io: CliIo): Promise<number> {
  const sidecar = await startSidecar(config, { log: commandLogger(io) });
  await waitForSignal();
  // SIGTERM: stop timers and the listener, leave the files for the app's remaining lifetime.
  await sidecar.stop();
  return EXIT.ok;
}

/** The `hallmark sidecar` subcommand. */
export const sidecarCommand: Command = {
  name: 'sidecar',
  summary: 'keep an SVID and an access token fresh in a shared directory (--once: init container)',
  usage: `hallmark sidecar [--once] [--server-url URL] [--server-bundle FILE] [--token-path FILE]
                 [--output-dir DIR] [--health-listen HOST:PORT] [--key-type ec-p256] [--once-timeout 60s]
                 [--spiffe-endpoint-socket unix:///run/hallmark/agent.sock]

Every flag mirrors a variable (HALLMARK_SERVER_URL -> --server-url). Writes svid.pem, svid-key.pem
(0600), bundle.pem and access-token (0640) to the output directory (default /run/hallmark).
--once exits 0 as soon as all four files are written, non-zero with one line naming the error.`,
  async run(args, io) {
    const { flags, values, positionals } = parseVariableFlags(args, SIDECAR_VARIABLES, {
      once: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    try {
      const config = loadSidecarConfig({ env: io.env, flags, once: values['once'] === true });
      if (!config.once) return await runLongLived(config, io);
      await runSidecarOnce(config, { log: commandLogger(io) });
      io.err(`hallmark sidecar: credentials written to ${config.outputDir}`);
      return EXIT.ok;
    } catch (err) {
      if (err instanceof ConfigError) {
        io.err(`hallmark sidecar: invalid configuration: ${err.message}`);
        return EXIT.usage;
      }
      io.err(failureLine(err));
      return EXIT.failure;
    }
  },
};
