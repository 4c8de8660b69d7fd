// `hallmark ca rotate --now`: the operator rotates the CA at once through the API.
import { ADMIN_USAGE, ADMIN_VARIABLES, withAdminClient } from './admin-client.js';
import { EXIT, UsageError, parseVariableFlags, type Command } from './command.js';

export const caCommand: Command = {
  name: 'ca',
  summary: 'rotate the certificate authority now (admin)',
  usage: `hallmark ca rotate --now

Prepares a new CA and activates it immediately (normally this happens on schedule: prepared at
half-life, activated when one sixth remains). The old CA stays in the bundle until it expires,
so SVIDs it signed keep verifying.

${ADMIN_USAGE}`,
  async run(args, io) {
    const { flags, values, positionals } = parseVariableFlags(args, ADMIN_VARIABLES, {
      now: { type: 'boolean' },
    });
    if (positionals[0] !== 'rotate' || positionals.length !== 1)
      throw new UsageError('expected "rotate --now"');
    if (values['now'] !== true) throw new UsageError('rotation is immediate; confirm with --now');
    return withAdminClient('ca', io, flags, async (client) => {
      const rotated = await client.rotateCa();
      io.out(
        `CA rotated: active CA ${rotated.active_ca}, bundle sequence ${rotated.spiffe_sequence}`,
      );
      return EXIT.ok;
    });
  },
};
