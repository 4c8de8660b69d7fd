// `hallmark oidc export DIR`: the OIDC discovery documents written for a static host (bucket, CDN).
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { HallmarkClient, isHallmarkClientError } from '../client/index.js';
import { ConfigError } from '../config/index.js';
import { writeFileAtomic } from '../file/index.js';
import { ADMIN_VARIABLES, readAdminSettings } from './admin-client.js';
import { EXIT, UsageError, parseVariableFlags, type Command } from './command.js';

export const oidcCommand: Command = {
  name: 'oidc',
  summary: 'write the OIDC discovery documents for static hosting',
  usage: `hallmark oidc export DIR

Fetches GET /.well-known/openid-configuration and its jwks_uri from the server (which must have
HALLMARK_OIDC_ISSUER set) and writes them, as served, to
  DIR/.well-known/openid-configuration
  DIR/.well-known/jwks.json
so DIR can be copied to the location HALLMARK_OIDC_ISSUER names (a bucket, a CDN). Run it again
at least hourly: a new JWT authority is published half a rotation period (12 hours by default)
before it signs. Both documents are public; no admin key is needed.
  --server-url URL     HALLMARK_SERVER_URL (default https://127.0.0.1:8443)
  --server-bundle F    CA certificates of the server (default <data dir>/bundle.pem)
  --data-dir DIR       HALLMARK_DATA_DIR (default ./.hallmark)`,
  async run(args, io) {
    const { flags, positionals } = parseVariableFlags(args, ADMIN_VARIABLES);
    if (positionals[0] !== 'export' || positionals.length !== 2) {
      throw new UsageError('expected "export DIR"');
    }
    const dir = path.resolve(positionals[1] as string);
    let client: HallmarkClient | undefined;
    try {
      const settings = readAdminSettings(io, flags);
      let ca: string;
      try {
        ca = await readFile(settings.bundleFile, 'utf8');
      } catch (err) {
        throw new ConfigError(
          'HALLMARK_SERVER_BUNDLE',
          `cannot read ${settings.bundleFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
      client = new HallmarkClient({ url: settings.serverUrl, ca });
      const documents = await client.oidcDocuments();
      const wellKnown = path.join(dir, '.well-known');
      try {
        await mkdir(wellKnown, { recursive: true, mode: 0o755 });
        // The key set first: a host serving the new discovery document already has its keys.
        await writeFileAtomic({
          path: path.join(wellKnown, 'jwks.json'),
          content: documents.jwks,
          mode: 0o644,
        });
        await writeFileAtomic({
          path: path.join(wellKnown, 'openid-configuration'),
          content: documents.discovery,
          mode: 0o644,
        });
      } catch (err) {
        io.err(`hallmark oidc: cannot write ${wellKnown}: ${(err as NodeJS.ErrnoException).code}`);
        return EXIT.failure;
      }
      io.out(`wrote the discovery documents of ${documents.issuer} to ${wellKnown}`);
      return EXIT.ok;
    } catch (err) {
      if (err instanceof ConfigError) {
        io.err(`hallmark oidc: invalid configuration: ${err.message}`);
        return EXIT.usage;
      }
      if (isHallmarkClientError(err)) {
        io.err(`hallmark oidc: ${err.code}: ${err.message}`);
        return EXIT.failure;
      }
      throw err;
    } finally {
      await client?.close();
    }
  },
};
