// Lint config: typescript-eslint's recommended rules plus the few conventions we enforce.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NAMED_EXPORTS_ONLY = { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' };

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
    files: ['eslint.config.js', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
