// The import layering of docs/architecture.md is a lint rule: each forbidden edge is refused by ESLint.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

/** The messages of `no-restricted-imports` for one import statement placed in `file`. */
async function layeringRefusals(file: string, statement: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${statement}\nexport const used = [x];\n`, {
    filePath: file,
  });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => m.message);
}

const REFUSED: [string, string, string][] = [
  // Domain folders never reach the HTTP layer, the composition root or the CLI.
  ['src/authn/caller-identity.ts', "import { x } from '../http/index.js';", 'src/http'],
  ['src/secrets/pg-secret-store.ts', "import { x } from '../server/index.js';", 'src/server'],
  ['src/policy/access.ts', "import { x } from '../cli/index.js';", 'src/cli'],
  ['src/ca/ca-store.ts', "import { x } from 'fastify';", 'HTTP framework'],
  [
    'src/authn/authentication.ts',
    "import { x } from '@fastify/type-provider-json-schema-to-ts';",
    'HTTP framework',
  ],
  ['src/x509/csr.ts', "import { x } from '../../sidecar/index.js';", 'sidecar'],
  ['src/audit/chain-store.ts', "import { x } from '../../broker/index.js';", 'broker'],
  // Another folder only through its index.js, from any depth.
  ['src/policy/access.ts', "import { x } from '../secrets/secret-path.js';", 'index.js'],
  [
    'src/http/routes/svid-routes.ts',
    "import { x } from '../../authn/issued-certificates.js';",
    'index.js',
  ],
  // The HTTP layer does not reach up to the composition root.
  ['src/http/app.ts', "import { x } from '../server/index.js';", 'src/server'],
  ['src/server/hallmark-server.ts', "import { x } from '../cli/index.js';", 'src/cli'],
  // sidecar/ is a client; broker/ is mounted by the server; both use src/ through index.js.
  [
    'sidecar/sidecar.ts',
    "import { x } from '../src/http/index.js';",
    'never imports the server side',
  ],
  ['sidecar/sidecar.ts', "import { x } from '../src/x509/csr.js';", 'public surfaces'],
  ['broker/broker-plugin.ts', "import { x } from '../src/server/index.js';", 'mounts the broker'],
  [
    'broker/broker-plugin.ts',
    "import { x } from '../src/secrets/pg-secret-store.js';",
    'public surfaces',
  ],
];

const ALLOWED: [string, string][] = [
  ['src/policy/access.ts', "import { x } from '../secrets/index.js';"],
  ['src/authn/caller-identity.ts', "import { x } from './access-token-claims.js';"],
  ['src/http/routes/secret-routes.ts', "import { x } from '../../secrets/index.js';"],
  ['src/http/routes/secret-routes.ts', "import { x } from '../request-audit.js';"],
  ['src/http/app.ts', "import { x } from 'fastify';"],
  ['src/server/hallmark-server.ts', "import { x } from '../http/index.js';"],
  ['src/server/hallmark-server.ts', "import { x } from '../../broker/index.js';"],
  ['src/cli/server-command.ts', "import { x } from '../server/index.js';"],
  ['broker/broker-plugin.ts', "import { x } from '../src/http/index.js';"],
];

describe('import layering (eslint.config.js)', () => {
  it.each(REFUSED)('refuses in %s: %s', async (file, statement, reason) => {
    const refusals = await layeringRefusals(file, statement);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain(reason);
  });

  it.each(ALLOWED)('allows in %s: %s', async (file, statement) => {
    expect(await layeringRefusals(file, statement)).toEqual([]);
  });
});
