// Every test file's setup (vitest.config.ts setupFiles, both projects): a fiber failure nothing
// observed, and anything written with console.error / console.warn, fails the test it happened
// in (test/support/failures.ts says why). A green run is then quiet: a test that means to see
// such output spies on the console itself (vi.spyOn(console, "error").mockImplementation(...)).
import { afterAll, afterEach } from "vitest";
import { unexpectedList, type Unexpected } from "./failures.js";

for (const level of ["error", "warn"] as const) {
  console[level] = (...args: unknown[]) => {
    const error = args.find(isError);
    unexpectedList().push({ what: `console.${level}: ${args.map(show).join(" ")}`, error });
  };
}

function show(v: unknown): string {
  if (isError(v)) return `${v.name}: ${v.message}`;
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

async function failOnUnexpected(when: string): Promise<void> {
  // onError is called a macrotask after the run() a fiber failed in has settled, or after the
  // fiber's end when no run() is pending (src/scheduler/failure-reports.ts): let any report queued
  // by the test's last step land here, not in the next test. (Two: a run that settled in this
  // turn arms its check from a microtask, after this hook's first timer may have been set.)
  for (let i = 0; i < 2; i++) await new Promise((r) => setTimeout(r, 0));
  const list = unexpectedList().splice(0);
  if (list.length === 0) return;
  throw report(list, when);
}

/** `v instanceof Error`, for any value a fiber threw (a revoked Proxy throws when asked). */
function isError(v: unknown): v is Error {
  try {
    return v instanceof Error;
  } catch {
    return false;
  }
}

function report(list: Unexpected[], when: string): Error {
  const head = `${list.length} unexpected fiber failure${list.length === 1 ? "" : "s"} or console output ${when}`;
  const first = list[0]!;
  const lines = list
    .slice(0, 10)
    .map((u) => `  - ${u.what.slice(0, 400)}${isError(u.error) ? `: ${u.error.message.slice(0, 400)}` : ""}`);
  if (list.length > 10) lines.push(`  … and ${list.length - 10} more`);
  // The first failure's own error (an AssertionError keeps its expected/actual diff), its message
  // saying where it came from.
  if (isError(first.error)) {
    try {
      first.error.message = `${head}:\n${lines.join("\n")}\n\n${first.error.message}`;
      return first.error;
    } catch {
      // a frozen error: a plain one below
    }
  }
  return new Error(`${head}:\n${lines.join("\n")}`);
}

afterEach(() => failOnUnexpected("during this test"));
afterAll(() => failOnUnexpected("after the file's last test"));
