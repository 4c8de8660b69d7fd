// Lint config: typescript-eslint's recommended rules, our conventions, and the import layering.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NAMED_EXPORTS_ONLY = { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' };

// The layering of docs/architecture.md, checked on every import specifier (all are relative with
// `.js` endings, so a pattern on the specifier is a pattern on the target). ESLint's own
// `no-restricted-imports`: flat config replaces a rule per file rather than merging it, so each
// group of files below gets its complete list.
const restrict = (regex, message) => ({ regex, message });
const FASTIFY = restrict(
  '^(fastify|fastify-plugin|@fastify/.*)$',
  'Domain code never uses the HTTP framework: src/http adapts it.',
);
const layer = (folder, message) => restrict(`^(\\.\\./)+${folder}/`, message);
const HTTP = layer('http', 'Domain code never imports src/http.');
const SERVER = layer('server', 'Only the CLI imports src/server (the composition root).');
const CLI = layer('cli', 'Nothing imports src/cli.');
const SIDECAR = layer('sidecar', 'Only src/cli starts the sidecar.');
const BROKER = layer('broker', 'Only src/server mounts the broker.');
// Leaving the file's folder (`../`, or `../../` from a subfolder such as src/http/routes/)
// into another folder, to anything but its index.js.
const DEEP = restrict(
  '^(\\.\\./)+[\\w-]+/(?!index\\.js$)',
  'Another folder is imported only through its public surface, index.js.',
);
const SRC_DEEP = restrict(
  '^(\\.\\./)+src/(?![\\w-]+/index\\.js$)',
  'sidecar/ and broker/ use src/ only through its public surfaces (src/<folder>/index.js).',
);
const importRules = (...patterns) => ({
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});
const LAYERS = ['src/http/**', 'src/server/**', 'src/cli/**'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.hallmark/', 'coverage/', 'bench-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        fetch: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': ['error', NAMED_EXPORTS_ONLY],
    },
  },
  {
    // Test doubles and helpers live in test/: nothing that ships may import them. A syntax rule,
    // not no-restricted-imports: flat config replaces a rule's options per file, so a later block
    // listing a folder's allowed imports would silently drop this one. (`\W` stands for `/`,
    // which an esquery regex cannot contain.)
    files: ['src/**/*.ts', 'sidecar/**/*.ts', 'broker/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        NAMED_EXPORTS_ONLY,
        {
          selector:
            ':matches(ImportDeclaration, ExportNamedDeclaration, ExportAllDeclaration, ImportExpression) > Literal.source[value=/^(\\.\\.\\W)+test\\W/]',
          message: 'Production code cannot import test code (test doubles are in test/doubles).',
        },
      ],
    },
  },
  {
    // Every other folder of src/ is domain code.
    files: ['src/**/*.ts'],
    ignores: LAYERS,
    ...importRules(FASTIFY, HTTP, SERVER, CLI, SIDECAR, BROKER, DEEP),
  },
  {
    files: ['src/http/**/*.ts'],
    ...importRules(SERVER, CLI, SIDECAR, BROKER, DEEP),
  },
  {
    files: ['src/server/**/*.ts'],
    ...importRules(CLI, SIDECAR, DEEP),
  },
  {
    files: ['src/cli/**/*.ts'],
    ...importRules(BROKER, DEEP),
  },
  {
    files: ['sidecar/**/*.ts'],
    ...importRules(
      SRC_DEEP,
      layer('src/(http|server|cli)', 'The sidecar is a client: it never imports the server side.'),
      BROKER,
    ),
  },
  {
    files: ['broker/**/*.ts'],
    ...importRules(SRC_DEEP, layer('src/(server|cli)', 'The server mounts the broker.'), SIDECAR),
  },
  {
    files: ['eslint.config.js', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
