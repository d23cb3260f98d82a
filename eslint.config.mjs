// ESLint flat config. TypeScript in src/ and test/ is linted with type information (one program
// from tsconfig.test.json, which covers both); the plain JavaScript tooling (.mjs/.cjs under
// scripts/, test/ and the root) gets the JS recommended rules with Node globals. Formatting is
// Prettier's job: eslint-config-prettier comes last and turns off the stylistic rules.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import globals from 'globals';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const unusedVars = [
  'error',
  {
    args: 'after-used',
    argsIgnorePattern: '^_',
    varsIgnorePattern: '^_',
    caughtErrorsIgnorePattern: '^_',
    destructuredArrayIgnorePattern: '^_',
    ignoreRestSiblings: true,
  },
];

export default defineConfig(
  {
    // bench/ is tooling outside the service (Prettier formats it); prisma.config.ts is in no tsconfig.
    ignores: ['node_modules/', 'dist/', 'web/dist/', 'coverage/', 'logs/', 'src/generated/', 'bench/', 'prisma.config.ts'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  // Plain JavaScript: scripts, Jest config and set-up files, the fake OpenAI server.
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, globals: { ...globals.node } },
    rules: { 'no-unused-vars': unusedVars },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },

  // TypeScript with type information.
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.test.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Promises that nobody awaits or catches: lost errors and unhandled rejections.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true, ignoreIIFE: false }],
      '@typescript-eslint/no-misused-promises': [
        'error',
        {
          checksConditionals: true,
          checksSpreads: true,
          // An async function handed to a callback that returns void (socket.on, process.on,
          // setTimeout, forEach) is still reported: its rejection escapes every handler. Nest's own
          // decorated handlers are methods, not callbacks, so they are unaffected.
          checksVoidReturn: { arguments: true, attributes: false, properties: true, returns: true, variables: true, inheritedMethods: true },
        },
      ],
      '@typescript-eslint/await-thenable': 'error',
      // `return promise` inside try/catch/finally skips the catch and runs finally too early.
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': unusedVars,
      // The service logs through Nest's Logger / pino (JSON lines, redaction); a deliberate console
      // line in a test says so with a disable comment.
      'no-console': 'error',
      // Lazy loads that keep an idle process small (each says why where it loads); nothing else.
      '@typescript-eslint/no-require-imports': [
        'error',
        { allow: ['^gpt-tokenizer$', '^@sentry/nestjs$', '^pino-pretty$', '^pino-roll$', '/queue-dashboard\\.module$'] },
      ],
      // Not enabled on purpose: consistent-type-imports and friends. With emitDecoratorMetadata,
      // Nest's dependency injection needs the runtime import of every class named in a constructor.
    },
  },
  // The dashboard's browser code (web/, bundled by Vite; type-checked by web/tsconfig.json).
  {
    files: ['web/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-unused-vars': 'off', '@typescript-eslint/no-unused-vars': unusedVars },
  },
  {
    files: ['test/**/*.ts', 'src/**/*.spec.ts'],
    languageOptions: { globals: { ...globals.jest } },
  },
  {
    // The e2e suites read untyped payloads (supertest's `res.body: any`, Socket.IO event data,
    // parsed JSON) and check them with expect(): the no-unsafe-* family would flag every such
    // read (~400 of them) without finding bugs. Explicit `any` stays an error.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  prettier,
);
