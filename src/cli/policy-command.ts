// `hallmark policy load|show`: the admin replaces or reads the policy document through the API.
import { readFile } from 'node:fs/promises';
import { ADMIN_USAGE, ADMIN_VARIABLES, withAdminClient } from './admin-client.js';
import { EXIT, UsageError, parseVariableFlags, type Command } from './command.js';

export const policyCommand: Command = {
  name: 'policy',
  summary: 'load or show the policy document (admin)',
  usage: `hallmark policy load FILE | hallmark policy show

load  validates FILE (YAML) on the server and makes it the policy in force on every replica;
      an invalid document is refused with every problem listed, and the old one stays.
show  prints the policy in force.

${ADMIN_USAGE}`,
  async run(args, io) {
    const { flags, positionals } = parseVariableFlags(args, ADMIN_VARIABLES);
    const [action, file, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    if (action === 'load') {
      if (file === undefined) throw new UsageError('expected the policy file after "load"');
      let document: string;
      try {
        document = await readFile(file, 'utf8');
      } catch (err) {
        throw new UsageError(
          `${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      return withAdminClient('policy', io, flags, async (client) => {
        try {
          const loaded = await client.putPolicy(document);
          io.out(`policy version ${loaded.version} loaded (sha256 ${loaded.sha256})`);
          return EXIT.ok;
        } catch (err) {
          const details = (err as { details?: unknown }).details;
          if (Array.isArray(details)) {
            for (const problem of details as { path?: string; message?: string; line?: number }[]) {
              io.err(
                `  ${problem.path || '(document)'}${problem.line ? ` (line ${problem.line})` : ''}: ${problem.message ?? ''}`,
              );
            }
          }
          throw err;
        }
      });
    }
    if (action === 'show') {
      if (file !== undefined) throw new UsageError(`unexpected argument "${file}"`);
      return withAdminClient('policy', io, flags, async (client) => {
        const policy = await client.getPolicy();
        io.out(`# policy version ${policy.version} (sha256 ${policy.sha256})`);
        io.out(policy.document);
        return EXIT.ok;
      });
    }
    throw new UsageError('expected "load FILE" or "show"');
  },
};
