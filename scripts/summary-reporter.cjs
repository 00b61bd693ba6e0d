// Prints how many cases each test file ran (so CI shows the conformance count per driver) and one
// closing line in the plain form CI reads: "jest: N passed, N failed, N skipped".
const { writeFileSync } = require('node:fs');
const { relative } = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const rows = results.testResults.map((file) => {
      const name = relative(this.rootDir, file.testFilePath);
      const failed = file.numFailingTests + (file.testExecError ? 1 : 0);
      return `  ${name.padEnd(60)} ${String(file.numPassingTests).padStart(5)} ok  ${failed} failing`;
    });
    console.log(['', 'cases per test file:', ...rows.sort()].join('\n'));
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const closing = `jest: ${results.numPassedTests} passed, ${failed} failed, ${results.numPendingTests} skipped`;
    console.log(`\n${closing}`);
    // .ci/run prints this again after Jest's own summary, so that it is the run's last word.
    if (process.env.KEYVENT_TEST_SUMMARY) writeFileSync(process.env.KEYVENT_TEST_SUMMARY, `${closing}\n`);
  }
}

module.exports = SummaryReporter;
