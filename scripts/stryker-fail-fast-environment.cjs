// Jest's node environment for `pnpm mutate` (stryker.config.mjs), changed only while a mutant is active
// (the first, coverage run has none and runs as usual):
// - once a test has failed, the mutant is killed, so every later test of its run is skipped. Stryker's
//   Jest runner has no bail, and without this a killed mutant runs all its covering tests;
// - a test or hook that runs past MUTANT_TEST_MS fails. The slowest case takes about 4 s unmutated, and a
//   mutant that hangs one (a loop that never ends, a promise never settled) would otherwise hold the
//   worker until Stryker's own timeout, which scales with the time of every covering test (30 s and more).
//   Such a mutant is then reported killed by a Jest timeout rather than as a Stryker timeout.
const { TestEnvironment } = require('jest-environment-node');

const MUTANT_TEST_MS = 10_000;

// The mutant under which a test failed, kept at module level: Jest loads this file once per Stryker worker
// and makes an environment per test file, while one mutant's run spans several files.
let failedUnder;

class FailFastEnvironment extends TestEnvironment {
  async handleTestEvent(event) {
    const mutant = process.env.__STRYKER_ACTIVE_MUTANT__;
    if (mutant === undefined) return;
    if (event.name === 'test_done' && event.test.errors.length > 0) failedUnder = mutant;
    else if (event.name === 'test_start') {
      // jest-circus reads the mode and the timeout after test_start: a test marked skip is reported skipped.
      if (failedUnder === mutant) event.test.mode = 'skip';
      event.test.timeout = Math.min(event.test.timeout ?? MUTANT_TEST_MS, MUTANT_TEST_MS);
    } else if (event.name === 'hook_start') {
      event.hook.timeout = Math.min(event.hook.timeout ?? MUTANT_TEST_MS, MUTANT_TEST_MS);
    }
  }
}

module.exports = FailFastEnvironment;
