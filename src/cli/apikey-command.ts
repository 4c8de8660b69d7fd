// `hallmark apikey rotate admin`: the admin replaces the admin API key through the API.
import {
  readAdminSettings,
  ADMIN_USAGE,
  ADMIN_VARIABLES,
  withAdminClient,
} from './admin-client.js';
import { EXIT, UsageError, parseVariableFlags, type Command } from './command.js';
import { writePrivateFile } from './private-file.js';

export const apikeyCommand: Command = {
  name: 'apikey',
  summary: 'rotate the admin API key (admin)',
  usage: `hallmark apikey rotate admin

Replaces the admin API key with a new random key. The old key, and every access token it
obtained, stop working at once on every replica; the rotation is audited
(authn.api_key.rotated). When the key was read from <data dir>/admin.key, the new key is
written there (mode 0600); when it came from HALLMARK_ADMIN_KEY, the new key is printed once:
put it in your secret manager.

${ADMIN_USAGE}`,
  async run(args, io) {
    const { flags, positionals } = parseVariableFlags(args, ADMIN_VARIABLES);
    if (positionals[0] !== 'rotate' || positionals[1] !== 'admin' || positionals.length !== 2) {
      throw new UsageError('expected "rotate admin" (only the admin key can be rotated)');
    }
    return withAdminClient('apikey', io, flags, async (client) => {
      const settings = readAdminSettings(io, flags);
      const rotated = await client.rotateAdminKey();
      if (settings.adminKey === undefined) {
        await writePrivateFile(settings.adminKeyFile, `${rotated.apiKey}\n`);
        io.out(
          `admin API key rotated at ${rotated.createdAt.toISOString()}; the new key is in ${settings.adminKeyFile}`,
        );
      } else {
        io.err(
          `admin API key rotated at ${rotated.createdAt.toISOString()}; the old key no longer works. The new key (shown once):`,
        );
        io.out(rotated.apiKey);
      }
      return EXIT.ok;
    });
  },
};
