// Nest 12 packages are ESM-only; Jest's CommonJS runtime cannot require() ESM on Node 20, so SWC
// transforms them (and their ESM-only dependencies, such as @fastify/static's content-disposition)
// along with our TypeScript.
const esmPackages = ['@nestjs', 'tokenlens', '@tokenlens', 'file-type', 'strtok3', 'token-types', '@tokenizer', 'uint8array-extras', '@borewit', 'content-disposition'];
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const shared = {
  testEnvironment: 'node',
  // Jest 30's default ("soft") deletes the globals a test file left behind; the Sentry SDK's global
  // carrier (loaded by the error-tracking suite) once sent that clean-up into infinite recursion
  // (RangeError in jest-util). Each file gets a fresh global context anyway.
  testEnvironmentOptions: { globalsCleanup: 'off' },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.(ts|js|mjs)$': swc },
  // Judged by the innermost package of a path, so that a nested copy (…/@fastify/static/node_modules/content-disposition) counts.
  transformIgnorePatterns: [`/node_modules/(?!(?:${esmPackages.join('|')})/)(?:@[^/]+/)?[^/]+/(?!.*node_modules/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

module.exports = {
  // Creates the run's own database and Redis DB index, and removes them afterwards.
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/src'], testMatch: ['**/*.spec.ts'] },
    // The SQL of the repositories on the run's real PostgreSQL database, without an app around them.
    { ...shared, displayName: 'repository', roots: ['<rootDir>/test/repository'], testMatch: ['**/*.repo-spec.ts'] },
    {
      ...shared,
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/setup-e2e.ts'],
    },
    // The dashboard in Debian's Chromium (playwright-core), against the real service.
    {
      ...shared,
      displayName: 'browser',
      roots: ['<rootDir>/test/browser'],
      testMatch: ['**/*.browser-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/setup-e2e.ts'],
    },
  ],
};
