// A self-driving host in a Node process of its own (src/scheduler/run-loop.ts): an ES module that
// forgets run() still gets its fiber's value (before, its top-level await never settled and Node
// exited with code 13); fibers blocked for ever do not keep the process alive; a fiber's sleep
// does, as a setTimeout would.
import { describe, it, expect, beforeAll } from "vitest";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildDist, ROOT } from "./support/build-dist.js";

const DIR = join(ROOT, "node_modules", ".cache", "fiberhost-self-driving");
const ENTRY = JSON.stringify(join(ROOT, "dist", "index.js"));

interface Exit {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `code` as an ES module in a child `node` (killed after 20 s: a hang fails, it does not stall the run). */
function runModule(name: string, code: string): Promise<Exit> {
  const file = join(DIR, `${name}.mjs`);
  writeFileSync(file, `import { createHost } from ${ENTRY};\n${code}`);
  const start = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: ROOT, timeout: 20_000 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number; signal?: string }) | null;
      resolve({
        code: e === null ? 0 : typeof e.code === "number" ? e.code : null,
        signal: e?.signal ?? null,
        stdout: stdout.trim(),
        stderr: stderr.trim(),
        ms: Date.now() - start,
      });
    });
  });
}

describe("a self-driving host in a Node process", () => {
  beforeAll(async () => {
    await buildDist();
    mkdirSync(DIR, { recursive: true });
  }, 120_000);

  it("a module that forgets run() and awaits t.result exits 0 with the value printed (not code 13)", async () => {
    const exit = await runModule(
      "forgets-run",
      `const host = await createHost();
const t = host.spawn(function* (f) {
  yield* f.yield();
  yield* f.sleep(5);
  return 42;
});
console.log("value", await t.result);`,
    );
    expect(exit).toMatchObject({ code: 0, signal: null, stdout: "value 42", stderr: "" });
  });

  it("a fiber that waits for ever on an event does not keep the process alive; an aborted timed wait leaves no timer", async () => {
    const exit = await runModule(
      "blocked-forever",
      `const host = await createHost({ onDeadlock: (b) => console.log("blocked", b.map((d) => d.name).join()) });
const never = host.createManualEvent({ name: "never" });
host.spawn(function* () { yield* never.wait(); }, { name: "waiter" });
const timed = host.spawn(function* () { yield* never.wait(60 * 60_000); }, { name: "timed" });
timed.result.catch((e) => console.log("aborted:", e.cause));
setTimeout(() => timed.abort("stop"), 50);
const report = await host.run(); // (the hour-long wait is pending until the abort ends it)
console.log("report", JSON.stringify(report));`,
    );
    expect(exit.signal).toBeNull(); // (killed by the timeout: it hung)
    expect(exit).toMatchObject({
      code: 0,
      stdout: 'aborted: stop\nblocked waiter\nreport {"finished":0,"failed":1,"blocked":1}',
      stderr: "",
    });
    expect(exit.ms).toBeLessThan(15_000);
  });

  it("a fiber that sleeps keeps the process alive until it wakes, as a setTimeout would", async () => {
    const exit = await runModule(
      "sleeper",
      `const host = await createHost();
host.spawn(function* (f) {
  yield* f.sleep(300);
  console.log("woke");
});`,
    );
    expect(exit).toMatchObject({ code: 0, signal: null, stdout: "woke", stderr: "" });
    expect(exit.ms).toBeGreaterThanOrEqual(300);
  });
});
