// Mutation testing of @keyvent/core with StrykerJS: `pnpm mutate` (Node.js 22 or later, as Stryker 10 requires).
// Not part of `pnpm test` or CI: a full run takes about 1.5 hours on 2 cores (most of it in the conformance
// feed cases, which wait seconds each). To mutate some files (comma-separated, no braces), or to rerun only
// the mutants whose code or covering tests changed since the last run:
//   pnpm mutate --mutate packages/core/src/pages.ts,packages/core/src/keys.ts
//   pnpm mutate --incremental
// The report lands in reports/mutation/ (mutation.html to browse, mutation.json for tools).

import { fileURLToPath } from 'node:url';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  // Only the core's code. index.ts re-exports; types.ts and driver.ts hold types only, which leave nothing to mutate.
  mutate: ['packages/core/src/**/*.ts', '!packages/core/src/index.ts', '!packages/core/src/types.ts', '!packages/core/src/driver.ts'],

  testRunner: 'jest',
  // Named, not found by Stryker's default glob (@stryker-mutator/*), which looks beside its own package:
  // under pnpm that is the .pnpm store, where the runner is not.
  plugins: ['@stryker-mutator/jest-runner'],
  jest: {
    // The root Jest config (SWC transform; `@keyvent/*` mapped to each package's src/index.ts, so the
    // tests import the sandbox's mutated sources), narrowed to the only tests that can kill a core
    // mutant: the core's own, and the conformance suite run on the memory driver, which lives in core.
    // The other drivers' suites need their databases and would only slow every mutant down.
    projectType: 'custom',
    configFile: 'jest.config.ts',
    config: {
      testMatch: ['<rootDir>/packages/core/test/**/*.test.ts', '<rootDir>/packages/conformance/test/memory.test.ts'],
      // Jest's node environment, which under a mutant stops at the first failing test and fails a test
      // that hangs after 10 s, instead of Stryker's timeout of 30 s and more (see the file). By
      // absolute path, as Stryker loads it itself for the coverage run, where `<rootDir>` means nothing.
      testEnvironment: fileURLToPath(new URL('scripts/stryker-fail-fast-environment.cjs', import.meta.url)),
    },
  },
  // Each mutant runs only the tests that reached its code in the first (coverage) run.
  coverageAnalysis: 'perTest',
  // The machine has 2 cores, shared with other test runs: 2 Jest workers at most (lower it with --concurrency 1).
  concurrency: 2,

  // The sandbox holds only what those tests read; Stryker links every node_modules folder into it.
  ignorePatterns: [
    '/*',
    '!/package.json',
    '!/jest.config.ts',
    '!/tsconfig*.json',
    '!/packages',
    '/packages/*',
    '!/packages/core',
    '!/packages/conformance',
    '/packages/*/dist',
  ],

  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // Not committed: it holds a copy of every mutated file and test, and is stale after any change to them.
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
