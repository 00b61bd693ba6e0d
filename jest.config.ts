import type { Config } from 'jest';

// Tests run the TypeScript sources directly (SWC strips the types; `pnpm typecheck` checks them).
const config: Config = {
  testEnvironment: 'node',
  reporters: ['default', '<rootDir>/scripts/summary-reporter.cjs'],
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/benchmarks/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  moduleNameMapper: {
    '^@keyvent/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  // StrykerJS (pnpm mutate) copies the workspace into .stryker-tmp while it runs.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
  testTimeout: 60_000,
  // On two cores Jest runs the files in its main process (one worker: in band), so one timer a backend's
  // client leaves behind holds the whole run open after its last case (a CI run hung so with 3,370 cases
  // passed). Exit once the cases are done; leaks that matter to users are asserted where they arise
  // (packages/cassandra/test/client-guard.test.ts counts the timers left after close).
  forceExit: true,
};

export default config;
