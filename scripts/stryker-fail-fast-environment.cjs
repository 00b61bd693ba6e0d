// Jest's node environment for `pnpm mutate` (stryker.config.mjs): once a test has failed under a mutant,
// the mutant is killed, so every later test of that mutant's run is skipped. Stryker's Jest runner has no
// bail of its own, and without this a killed mutant runs all its covering tests (the conformance suite's
// consumer cases wait seconds each). The first, coverage run has no active mutant and runs everything.
const { TestEnvironment } = require('jest-environment-node');

// The mutant under which a test failed, kept at module level: Jest loads this file once per Stryker worker
// and makes an environment per test file, while one mutant's run spans several files.
let failedUnder;

class FailFastEnvironment extends TestEnvironment {
  async handleTestEvent(event) {
    const mutant = process.env.__STRYKER_ACTIVE_MUTANT__;
    if (mutant === undefined) return;
    if (event.name === 'test_done' && event.test.errors.length > 0) failedUnder = mutant;
    // jest-circus reads the mode after test_start: a test marked here is reported as skipped.
    else if (event.name === 'test_start' && failedUnder === mutant) event.test.mode = 'skip';
  }
}

module.exports = FailFastEnvironment;
