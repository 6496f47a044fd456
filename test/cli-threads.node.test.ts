// `fiberhost demo --threads N`: the demo scenario across worker threads on one shared runtime, run
// as a user runs it (the built bin in a subprocess; its workers load dist/).

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, buildDist } from "./support/build-dist.js";
import type { ThreadsSummary } from "../src/demo/threads-demo.js";

function fiberhost(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/fiberhost.js"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => buildDist(), 120_000);

describe("fiberhost demo --threads", () => {
  it("prints a line per worker and the runtime's totals, balanced, invariants holding", () => {
    const r = fiberhost("demo", "--threads", "2", "--fibers", "300", "--duration", "0.2", "--seed", "3");
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("fiberhost demo: 300 fibers on 2 worker threads, seed 3, real clock");
    const workers = lines.filter((l) => /^ {2}worker \d/.test(l));
    expect(workers).toHaveLength(2);
    // Each worker ran its half of the fibers (every other fiber of the run), on a thread of its own.
    expect(workers[0]).toMatch(
      /^ {2}worker 1 +thread \d+: 150 fibers \(.*\) · transitions [\d,]+ · switches [\d,]+ · [\d,.]+ ms$/,
    );
    expect(workers[1]).toMatch(/^ {2}worker 2 +thread \d+: 150 fibers /);
    expect(workers[0]!.match(/thread (\d+)/)![1]).not.toBe(workers[1]!.match(/thread (\d+)/)![1]);
    expect(lines.find((l) => l.startsWith("  total "))).toMatch(/ 300 fibers \(/);
    expect(lines.find((l) => l.startsWith("  checks "))).toMatch(/^ {2}checks {7}balanced yes · invariants yes$/);
    expect(lines.find((l) => l.startsWith("  suspensions "))).toMatch(
      /^ {2}suspensions {2}[1-9][\d,]* across every worker/,
    );
  });

  it("--json: the workers' transitions add up to the shared core's, which balance", () => {
    const r = fiberhost("demo", "--threads", "2", "--fibers", "200", "--duration", "0.2", "--json");
    expect(r.stderr).toBe("");
    const s = JSON.parse(r.stdout) as ThreadsSummary;
    expect(s.threads).toBe(2);
    expect(s.workers.map((w) => w.fibers.spawned)).toEqual([100, 100]);
    const t = s.total.transitions;
    // Every transition of the run is a workload fiber's (the shares, the background fibers and the
    // collector make none): the counters each worker summed add up to the shared core's totals.
    const own = s.workers.reduce((a, w) => a + w.transitions, 0);
    expect(own).toBeGreaterThan(0);
    expect(t.total).toBe(own);
    expect(s.checks.invariants).toBe(true);
    // A suspension made on another thread reaches a worker at its safe points only (not in the
    // middle of a guest call's crossings): no fiber fails for it, and the counters balance.
    expect(s.total.fibers.failed).toBe(0);
    expect(t.leaveRuntime).toBe(t.enterRuntime);
    expect(t.reverseEnterRuntime).toBe(t.reverseLeaveRuntime + s.total.unmatchedReverseEnter);
    expect(s.checks.balanced).toBe(true);
    expect(s.total.suspensions.unacknowledged).toBe(0);
    for (const w of s.workers) expect(w.fibers.finished + w.fibers.aborted + w.fibers.failed).toBe(w.fibers.spawned);
    expect(r.status).toBe(0);
  });

  const bad: [string, RegExp][] = [
    ["0", /--threads must be a whole number from 1 to 31 or 'auto', not '0'/],
    ["32", /--threads must be a whole number from 1 to 31 or 'auto', not '32'/],
    ["1.5", /--threads must be a whole number/],
    ["many", /--threads must be a whole number from 1 to 31 or 'auto', not 'many'/],
  ];
  for (const [value, message] of bad) {
    it(`--threads ${value} exits 2 naming the flag`, () => {
      const r = fiberhost("demo", "--threads", value);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    });
  }

  it("--threads with --trace exits 2: a trace is one thread's", () => {
    const r = fiberhost("demo", "--threads", "2", "--trace", "x.json");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--trace .* does not go with --threads/);
  });
});
