// `hallmark secret set|get`: admin access to secrets through the server's API, audited like any caller.
import { readFile } from 'node:fs/promises';
import { isHallmarkClientError, type HallmarkClient } from '../client/index.js';
import { ConfigError } from '../config/index.js';
import { ADMIN_USAGE, ADMIN_VARIABLES, adminClient, readAdminSettings } from './admin-client.js';
import { EXIT, UsageError, parseVariableFlags, type CliIo, type Command } from './command.js';

/** Upper bound on a value read from stdin or a file; the server enforces the real limit. */
const MAX_INPUT_BYTES = 1_048_576;

async function readBounded(stream: NodeJS.ReadableStream, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    total += buffer.length;
    if (total > MAX_INPUT_BYTES)
      throw new UsageError(`${what} is larger than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function decodeUtf8(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new UsageError(`${what} is not valid UTF-8`);
  }
}

/**
 * The value to store: `--from-file` verbatim, or stdin with one trailing line break removed
 * (what `echo value |` and typing a line add; a file keeps its exact bytes, e.g. a PEM).
 */
async function readValue(io: CliIo, fromFile: string | undefined): Promise<string> {
  if (fromFile !== undefined) {
    let bytes: Buffer;
    try {
      bytes = await readFile(fromFile);
    } catch (err) {
      throw new UsageError(
        `${fromFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    if (bytes.length > MAX_INPUT_BYTES)
      throw new UsageError(`${fromFile} is larger than ${MAX_INPUT_BYTES} bytes`);
    return decodeUtf8(bytes, fromFile);
  }
  if ((io.stdin as { isTTY?: boolean }).isTTY)
    io.err('reading the value from stdin; end with Ctrl-D');
  const text = decodeUtf8(await readBounded(io.stdin, 'stdin'), 'stdin');
  return text.replace(/\r?\n$/, '');
}

function parseVersion(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(text))
    throw new UsageError(`--version must be a positive integer, got "${text}"`);
  return Number(text);
}

export const secretCommand: Command = {
  name: 'secret',
  summary: 'set or get a secret through the server (admin)',
  usage: `hallmark secret set PATH [--from-file F] | hallmark secret get PATH [--version N]

set   stores a new version of PATH; the value is read from stdin (one trailing newline removed)
      or from --from-file F (verbatim), never from the command line. Prints the new version.
get   prints the newest value of PATH, or version N.

${ADMIN_USAGE}`,
  async run(args, io) {
    const { flags, values, positionals } = parseVariableFlags(args, ADMIN_VARIABLES, {
      'from-file': { type: 'string' },
      version: { type: 'string' },
    });
    const [action, secretPath, ...rest] = positionals;
    if (action !== 'set' && action !== 'get') throw new UsageError('expected "set" or "get"');
    if (secretPath === undefined)
      throw new UsageError(`expected the secret path after "${action}"`);
    if (rest.length > 0) {
      throw new UsageError(
        action === 'set'
          ? 'the value is read from stdin or --from-file, never from the command line'
          : `unexpected argument "${rest[0]}"`,
      );
    }
    if (action === 'set' && values['version'] !== undefined)
      throw new UsageError('--version is for "get"');
    if (action === 'get' && values['from-file'] !== undefined)
      throw new UsageError('--from-file is for "set"');
    const version = parseVersion(values['version'] as string | undefined);

    let client: HallmarkClient | undefined;
    try {
      const settings = readAdminSettings(io, flags);
      // Read the value before logging in, so a bad file fails without a server round trip.
      const value =
        action === 'set'
          ? await readValue(io, values['from-file'] as string | undefined)
          : undefined;
      client = await adminClient(settings);
      if (value !== undefined) {
        const written = await client.putSecret(secretPath, value);
        io.out(`${written.path}: version ${written.version}`);
      } else {
        io.out((await client.getSecret(secretPath, version)).value);
      }
      return EXIT.ok;
    } catch (err) {
      if (err instanceof ConfigError) {
        io.err(`hallmark secret: invalid configuration: ${err.message}`);
        return EXIT.usage;
      }
      if (isHallmarkClientError(err)) {
        io.err(`hallmark secret: ${err.code}: ${err.message}`);
        return EXIT.failure;
      }
      throw err;
    } finally {
      await client?.close();
    }
  },
};
