import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Dependencies point inwards: the core never reaches for the HTTP layer.
    files: ['src/domain/**', 'src/store/**', 'src/ingest/**', 'src/send/**', 'src/channels/**', 'src/delivery/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/http/**', '**/server.js'], message: 'core modules must not import the HTTP layer or the composition root' }] }],
    },
  },
  {
    files: ['src/domain/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/store/**', '**/http/**', '**/channels/**', '**/ingest/**', '**/send/**', '**/delivery/**', 'node:fs', 'node:http', 'node:net', 'better-sqlite3', 'undici', 'fastify'], message: 'domain/ is pure: no I/O and no imports from outer layers' }] }],
    },
  },
);
