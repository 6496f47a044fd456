// A fiber's failure nothing observed fails the test it happened in. An `expect` inside a fiber
// body throws into the fiber, not into the test: unless something reads the fiber's result, the
// AssertionError only reaches the host's onError (by default console.error) and the test stays
// green. So the test hosts record such failures (onError: fiberFailed), the default report's
// console.error / console.warn are caught too (hosts a test made with createHost directly), and
// test/support/setup.ts fails the test in an afterEach when anything was recorded. A test that
// means a fiber to fail says so: expectFailure(task) reads its result.
import type { Task } from "../../src/index.js";

export interface Unexpected {
  what: string;
  error: unknown;
  /** The fiber whose failure it is (a test host's report). */
  task?: object;
}

// On globalThis: the setup file and the test file must see one list even if the module were
// loaded twice.
const KEY = Symbol.for("fiberhost.test.unexpected");
const store = globalThis as { [KEY]?: Unexpected[] };

export function unexpectedList(): Unexpected[] {
  store[KEY] ??= [];
  return store[KEY];
}

/** createHost({ onError }) of every test host: the failure fails the test. */
export function fiberFailed(err: unknown, task: Task): void {
  let name: string;
  try {
    name = String(task);
  } catch {
    name = "a fiber";
  }
  unexpectedList().push({ what: `${name} failed and nothing observed its error`, error: err, task });
}

/**
 * The test means this fiber to fail: resolves to its error (and fails the test when the fiber
 * returned). Reads its result, so nothing reports the failure; when a test host already reported
 * it (the fiber ended before anything asked), that report is withdrawn: it was expected.
 */
export function expectFailure(task: { result: Promise<unknown> }): Promise<unknown> {
  const list = unexpectedList();
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.task === task) list.splice(i, 1);
  return task.result.then(
    (value) => {
      throw new Error(`expected the fiber to fail; it returned ${String(value)}`);
    },
    (err: unknown) => err,
  );
}
