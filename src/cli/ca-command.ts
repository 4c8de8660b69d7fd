// `hallmark ca rotate|list|distrust`: the operator manages the certificate authority through the API.
import { ADMIN_USAGE, ADMIN_VARIABLES, withAdminClient } from './admin-client.js';
import { EXIT, UsageError, parseVariableFlags, type Command } from './command.js';

const USAGE = `hallmark ca rotate --now
hallmark ca list
hallmark ca distrust <ca-id> [--rotate]

rotate --now     Prepares a new CA and activates it immediately (normally this happens on
                 schedule: prepared at half-life, activated when one sixth remains). The old CA
                 stays in the bundle until it expires, so SVIDs it signed keep verifying.
list             Every CA with its id, status (prepared, active, old, distrusted) and validity.
distrust <id>    After a compromise: removes that CA from the bundle at once (new
                 spiffe_sequence), wipes its key, and refuses the SVIDs it signed (login,
                 JWT-SVIDs); sidecars notice and obtain new SVIDs without restarting.
  --rotate       Required when <id> is the CA signing now: a new CA with a fresh key is
                 made and activated in the same step, so there is never no usable CA (one
                 prepared before is distrusted too).

${ADMIN_USAGE}`;

export const caCommand: Command = {
  name: 'ca',
  summary: 'rotate, list or distrust certificate authorities (admin)',
  usage: USAGE,
  async run(args, io) {
    const { flags, values, positionals } = parseVariableFlags(args, ADMIN_VARIABLES, {
      now: { type: 'boolean' },
      rotate: { type: 'boolean' },
    });
    const [verb, ...rest] = positionals;
    if (verb === 'rotate') {
      if (rest.length !== 0 || values['rotate'] !== undefined)
        throw new UsageError('expected "rotate --now"');
      if (values['now'] !== true) throw new UsageError('rotation is immediate; confirm with --now');
      return withAdminClient('ca', io, flags, async (client) => {
        const rotated = await client.rotateCa();
        io.out(
          `CA rotated: active CA ${rotated.active_ca}, bundle sequence ${rotated.spiffe_sequence}`,
        );
        return EXIT.ok;
      });
    }
    if (values['now'] !== undefined) throw new UsageError('--now belongs to "rotate"');
    if (verb === 'list') {
      if (rest.length !== 0 || values['rotate'] !== undefined)
        throw new UsageError('expected "list"');
      return withAdminClient('ca', io, flags, async (client) => {
        for (const ca of await client.caAuthorities()) {
          const distrusted = ca.distrustedAt ? ` distrusted ${ca.distrustedAt.toISOString()}` : '';
          io.out(
            `${ca.id}\t${ca.status}\t${ca.notBefore.toISOString()} .. ${ca.notAfter.toISOString()}${distrusted}`,
          );
        }
        return EXIT.ok;
      });
    }
    if (verb === 'distrust') {
      const id =
        rest.length === 1 && /^[1-9][0-9]{0,15}$/.test(rest[0] ?? '') ? Number(rest[0]) : 0;
      if (id === 0) throw new UsageError('expected "distrust <ca-id> [--rotate]"');
      return withAdminClient('ca', io, flags, async (client) => {
        const result = await client.distrustCa(id, { rotate: values['rotate'] === true });
        io.out(
          `${result.changed ? 'CA distrusted' : 'CA was already distrusted'}: ${id}; active CA ${result.activeCa}, bundle sequence ${result.sequence}`,
        );
        return EXIT.ok;
      });
    }
    throw new UsageError('expected "rotate --now", "list" or "distrust <ca-id> [--rotate]"');
  },
};
