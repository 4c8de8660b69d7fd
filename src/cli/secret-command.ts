// `hallmark secret set|get`: admin access to secrets through the server's API, audited like any caller.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { HallmarkClient, isHallmarkClientError } from '../client/index.js';
import { ConfigError, EnvReader, rejectUnknownVariables } from '../config/index.js';
import { EXIT, UsageError, parseVariableFlags, type CliIo, type Command } from './command.js';

const VARIABLES = ['HALLMARK_SERVER_URL', 'HALLMARK_SERVER_BUNDLE', 'HALLMARK_DATA_DIR'] as const;

/** Upper bound on a value read from stdin or a file; the server enforces the real limit. */
const MAX_INPUT_BYTES = 1_048_576;

/** How the admin CLI reaches the server (DESIGN.md "Storage and scale", "Configuration"). */
interface AdminSettings {
  serverUrl: string;
  bundleFile: string;
  adminKey: string | undefined;
  adminKeyFile: string;
}

function readSettings(io: CliIo, flags: Record<string, string>): AdminSettings {
  rejectUnknownVariables(io.env);
  const reader = new EnvReader({ env: io.env, flags });
  const dataDir = path.resolve(reader.string('HALLMARK_DATA_DIR', './.hallmark'));
  const serverUrl = reader.string('HALLMARK_SERVER_URL', 'https://127.0.0.1:8443');
  if (!/^https:\/\/[^\s/]+/.test(serverUrl)) {
    throw new ConfigError('HALLMARK_SERVER_URL', `expected an https:// URL, got "${serverUrl}"`);
  }
  return {
    serverUrl,
    bundleFile: reader.optional('HALLMARK_SERVER_BUNDLE') ?? path.join(dataDir, 'bundle.pem'),
    // Never a flag: a key on the command line would be visible in `ps` and shell history.
    adminKey: reader.optional('HALLMARK_ADMIN_KEY'),
    adminKeyFile: path.join(dataDir, 'admin.key'),
  };
}

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

async function adminClient(settings: AdminSettings): Promise<HallmarkClient> {
  let ca: string;
  try {
    ca = await readFile(settings.bundleFile, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'HALLMARK_SERVER_BUNDLE',
      `cannot read ${settings.bundleFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let key = settings.adminKey;
  if (key === undefined) {
    try {
      key = (await readFile(settings.adminKeyFile, 'utf8')).trim();
    } catch {
      throw new ConfigError(
        'HALLMARK_ADMIN_KEY',
        `not set, and ${settings.adminKeyFile} cannot be read`,
      );
    }
  }
  let token = '';
  const client = new HallmarkClient({ url: settings.serverUrl, ca, token: () => token });
  try {
    // @see DESIGN.md "Configuration": an admin token is POST /v1/authn/apikey {"id": "admin", ...}
    token = (await client.loginWithApiKey('admin', key)).token;
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
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

Both go through the server's API as the admin, so they are authorised and audited:
  --server-url URL     HALLMARK_SERVER_URL (default https://127.0.0.1:8443)
  --server-bundle F    CA certificates of the server (default <data dir>/bundle.pem)
  --data-dir DIR       HALLMARK_DATA_DIR (default ./.hallmark)
The admin key comes from HALLMARK_ADMIN_KEY or <data dir>/admin.key.`,
  async run(args, io) {
    const { flags, values, positionals } = parseVariableFlags(args, VARIABLES, {
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
      const settings = readSettings(io, flags);
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
