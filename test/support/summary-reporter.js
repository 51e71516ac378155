// Tallies each jest run. scripts/test.sh runs jest more than once and prints one closing line for all
// runs ("tests: N passed, N failed, N skipped"), the form CI tooling reads; each run's own tally is
// appended to $RECON_TEST_TALLY and printed in a form that is not mistaken for that closing line.
const { appendFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    if (process.env.RECON_TEST_TALLY) {
      appendFileSync(process.env.RECON_TEST_TALLY, `${results.numPassedTests} ${failed} ${skipped}\n`);
      process.stdout.write(`\n(this jest run: ${results.numPassedTests} passed / ${failed} failed / ${skipped} skipped)\n`);
    } else {
      process.stdout.write(`\ntests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`);
    }
  }
}
module.exports = SummaryReporter;
