import type { Reporter, SerializedError, TestModule, Vitest } from "vitest/node";

/**
 * Prints one plain line after everything else at the end of a run:
 *
 *   N passed, N failed[, N skipped]
 *
 * Totals are test cases over all projects (a test running in both the `node`
 * and `browser` projects counts twice). `skipped` (skip/todo/filtered by
 * `.only`) appears only when non-zero.
 *
 * So that the line never says "0 failed" for a red run, each test file that
 * failed without a failing test case (import/collect error, failing
 * beforeAll/afterAll) and each unhandled error also count as one failure.
 *
 * `.ci/run` greps the last line matching /^[0-9]+ passed, [0-9]+ failed/.
 * Must be listed after 'default' in `reporters` so it prints last.
 */
export default class SummaryReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      let moduleFailures = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") {
          failed++;
          moduleFailures++;
        } else if (state === "skipped") skipped++;
        // 'pending' = never finished (run interrupted): not counted
      }
      if (moduleFailures === 0 && mod.state() === "failed") failed++;
    }
    failed += unhandledErrors.length;

    let line = `${passed} passed, ${failed} failed`;
    if (skipped > 0) line += `, ${skipped} skipped`;
    // plain text, no colours: CI greps this line
    if (this.vitest) this.vitest.logger.log(line);
    else console.log(line);
  }
}
