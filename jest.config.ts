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
};

export default config;
