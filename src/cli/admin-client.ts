// How admin commands reach the server: URL, CA bundle and admin key → an authenticated client.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { HallmarkClient, isHallmarkClientError } from '../client/index.js';
import { ConfigError, EnvReader, rejectUnknownVariables } from '../config/index.js';
import { EXIT, type CliIo } from './command.js';

/** Variables (and `--flags`) every admin command accepts. */
export const ADMIN_VARIABLES = [
  'HALLMARK_SERVER_URL',
  'HALLMARK_SERVER_BUNDLE',
  'HALLMARK_DATA_DIR',
] as const;

/** Help text describing {@link ADMIN_VARIABLES}. */
export const ADMIN_USAGE = `These go through the server's API as the admin, so they are authorised and audited:
  --server-url URL     HALLMARK_SERVER_URL (default https://127.0.0.1:8443)
  --server-bundle F    CA certificates of the server (default <data dir>/bundle.pem)
  --data-dir DIR       HALLMARK_DATA_DIR (default ./.hallmark)
The admin key comes from HALLMARK_ADMIN_KEY or <data dir>/admin.key.`;

/** How the admin CLI reaches the server (docs/install.md, "Command line"). */
export interface AdminSettings {
  serverUrl: string;
  bundleFile: string;
  adminKey: string | undefined;
  adminKeyFile: string;
}

/** Reads and validates the admin settings from the environment and flags. */
export function readAdminSettings(io: CliIo, flags: Record<string, string>): AdminSettings {
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

/** A client logged in as the admin (`POST /v1/authn/apikey` with the admin key). */
export async function adminClient(settings: AdminSettings): Promise<HallmarkClient> {
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
    // docs/http-api.md: an admin token is POST /v1/authn/apikey {"id": "admin", ...}
    token = (await client.loginWithApiKey('admin', key)).token;
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}

/**
 * Runs an admin action with a logged-in client and maps failures to exit codes: bad
 * configuration → 2, a server refusal → 1 with its code on one line.
 */
export async function withAdminClient(
  name: string,
  io: CliIo,
  flags: Record<string, string>,
  action: (client: HallmarkClient) => Promise<number>,
): Promise<number> {
  let client: HallmarkClient | undefined;
  try {
    client = await adminClient(readAdminSettings(io, flags));
    return await action(client);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`hallmark ${name}: invalid configuration: ${err.message}`);
      return EXIT.usage;
    }
    if (isHallmarkClientError(err)) {
      io.err(`hallmark ${name}: ${err.code}: ${err.message}`);
      return EXIT.failure;
    }
    throw err;
  } finally {
    await client?.close();
  }
}
