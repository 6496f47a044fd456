// The `fiberhost` command, run as a user runs it: the built bin in a subprocess.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, buildDist } from "./support/build-dist.js";
import type { DemoSummary } from "../src/demo/summary.js";
import { startProgress } from "../src/cli/progress.js";

function fiberhost(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/fiberhost.js"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function demoJson(...args: string[]): DemoSummary {
  const r = fiberhost("demo", "--json", ...args);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(r.stdout.trim().split("\n")).toHaveLength(1);
  return JSON.parse(r.stdout) as DemoSummary;
}

/** The summary without the fields that depend on how fast the machine is. */
function deterministic(s: DemoSummary): unknown {
  return { ...s, wallMs: 0, transitions: { ...s.transitions, perSecond: 0 } };
}

const tmp = mkdtempSync(join(tmpdir(), "fiberhost-cli-"));
beforeAll(() => buildDist(), 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("fiberhost demo", () => {
  it("--fibers 200 --seed 1 --json prints one JSON summary on stdout that accounts for every fiber and balances", () => {
    const s = demoJson("--fibers", "200", "--seed", "1");
    expect(s.seed).toBe(1);
    expect(s.fibers.spawned).toBe(200);
    expect(Object.values(s.fibers.byKind).reduce((a, b) => a + b, 0)).toBe(200);
    for (const kind of ["handler", "orphan", "worker", "locker", "careless"])
      expect(s.fibers.byKind).toHaveProperty(kind);
    expect(s.fibers.finished + s.fibers.aborted + s.fibers.failed).toBe(200);
    expect(s.fibers.failed).toBe(0);
    const t = s.transitions;
    expect(t.leaveRuntime).toBe(t.enterRuntime);
    expect(t.reverseEnterRuntime).toBe(t.reverseLeaveRuntime + s.unmatchedReverseEnter);
    expect(t.total).toBe(t.leaveRuntime + t.enterRuntime + t.reverseEnterRuntime + t.reverseLeaveRuntime);
    // Every request crosses into the example guest through host.instantiate's hooks: export →
    // import → export → import → export, then three calls of a (sometimes blocking) import.
    expect(s.guest.suspension).toBe("asyncify");
    expect(s.guest.requests).toBeGreaterThan(100);
    expect(s.guest.importCalls).toBeGreaterThanOrEqual(5 * s.guest.requests);
    expect(t.leaveRuntime).toBe(s.guest.importCalls);
    expect(s.guest.blocks).toBeGreaterThan(0); // fibers blocked inside the guest (asyncify) and went on // the demo's only LeaveRuntimes are the guest's import calls
    // Orphans reverse-enter and never leave; one aborted before its reverse enter leaves nothing.
    expect(s.unmatchedReverseEnter).toBeGreaterThan(0);
    expect(s.unmatchedReverseEnter).toBeLessThanOrEqual(s.fibers.byKind.orphan);
    expect(Object.keys(s.waits)).toEqual(
      expect.arrayContaining(["S_OK", "HOST_E_TIMEOUT", "HOST_E_INTERRUPTED", "HOST_E_ABANDONED", "HOST_E_DEADLOCK"]),
    );
    expect(s.waits.S_OK).toBeGreaterThan(0);
    expect(s.suspensions.count).toBeGreaterThan(0);
    expect(s.aborts.delivered).toBeLessThanOrEqual(s.aborts.requested);
    expect(s.checks).toEqual({ balanced: true, invariants: true, liveTasks: 1 });
  });

  it("gives the same summary for the same seed (but for the real-time fields), and another for another seed", () => {
    const a = demoJson("--fibers", "300", "--seed", "7");
    const b = demoJson("--fibers", "300", "--seed", "7");
    const c = demoJson("--fibers", "300", "--seed", "8");
    expect(deterministic(b)).toEqual(deterministic(a));
    expect(deterministic(c)).not.toEqual(deterministic(a));
  });

  it("the default run (10,000 fibers) sees every kind of wait answer and aborts delivered", () => {
    const s = demoJson();
    expect(s.fibers.spawned).toBe(10_000);
    for (const result of ["S_OK", "HOST_E_TIMEOUT", "HOST_E_INTERRUPTED", "HOST_E_ABANDONED", "HOST_E_DEADLOCK"])
      expect(s.waits[result]).toBeGreaterThan(0);
    expect(s.aborts.delivered).toBeGreaterThan(0);
    expect(s.suspensions.enteringWaited).toBeGreaterThan(0);
    expect(s.suspensions.enterWaitMs.p99).toBeGreaterThanOrEqual(s.suspensions.enterWaitMs.p50);
    expect(s.checks).toEqual({ balanced: true, invariants: true, liveTasks: 1 });
  });

  it("prints a text summary by default", () => {
    const r = fiberhost("demo", "--fibers", "100", "--duration", "0.5");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^fiberhost demo: 100 fibers, seed 1, virtual clock/);
    expect(r.stdout).toMatch(/transitions {2}[\d,]+, [\d,]+ per second/);
    expect(r.stdout).toMatch(/checks {7}balanced yes · invariants yes/);
    expect(r.stderr).toBe(""); // no progress bar when stderr is not a terminal
  });

  it("--trace FILE writes a Chrome trace that `fiberhost trace FILE` summarises", () => {
    const file = join(tmp, "run.json");
    const r = fiberhost("demo", "--fibers", "200", "--json", "--trace", file);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/trace: [\d,]+ events written to/);
    const s = JSON.parse(r.stdout) as DemoSummary;
    const trace = JSON.parse(readFileSync(file, "utf8")) as { traceEvents: { name: string }[] };
    expect(trace.traceEvents.length).toBeGreaterThan(0);

    const t = fiberhost("trace", file, "--json");
    expect(t.status).toBe(0);
    const summary = JSON.parse(t.stdout);
    expect(summary.fibers).toBeGreaterThanOrEqual(200);
    expect(summary.transitions).toEqual({
      LeaveRuntime: s.transitions.leaveRuntime,
      EnterRuntime: s.transitions.enterRuntime,
      ReverseEnterRuntime: s.transitions.reverseEnterRuntime,
      ReverseLeaveRuntime: s.transitions.reverseLeaveRuntime,
    });
    expect(summary.waits.longest.length).toBeGreaterThan(0);
    expect(summary.waits.longest[0].ms).toBeGreaterThanOrEqual(summary.waits.longest.at(-1).ms);

    const text = fiberhost("trace", file, "--top", "3");
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/transitions {2}LeaveRuntime [\d,]+ · EnterRuntime/);
    expect(text.stdout.match(/^ +[\d,.]+ ms {2}\S+ \(from/gm)).toHaveLength(3);
  });
});

describe("fiberhost demo --trace to a path that cannot be written", () => {
  it("exits 1 with one line, before the run", () => {
    const r = fiberhost("demo", "--trace", join(tmp, "no-such-dir", "run.json"));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^fiberhost demo: cannot write the trace to .*no-such-dir/);
  });
});

describe("fiberhost trace", () => {
  it("a file that cannot be read, or is not a trace, exits 1 with one line", () => {
    const missing = fiberhost("trace", join(tmp, "nope.json"));
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.json/);
    const file = join(tmp, "not-a-trace.json");
    writeFileSync(file, JSON.stringify({ hello: 1 }));
    const bad = fiberhost("trace", file);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/not a Chrome trace-event file/);
  });
});

describe("bad flags exit 2 with one line naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["demo", "--bogus"], /unknown flag --bogus/],
    [["demo", "--fibers", "abc"], /--fibers must be a whole number/],
    [["demo", "--fibers", "0"], /--fibers must be a whole number/],
    [["demo", "--fibers", "2.5"], /--fibers must be a whole number/],
    [["demo", "--fibers"], /--fibers needs a value/],
    [["demo", "--duration", "-1"], /--duration must be a number of seconds/],
    [["demo", "--duration=-0.5"], /--duration must be a number of seconds/],
    [["demo", "--duration", "soon"], /--duration must be a number of seconds/],
    [["demo", "--seed", "-3"], /--seed must be a whole number/],
    [["demo", "--json=yes"], /--json takes no value/],
    [["demo", "stray"], /unexpected argument stray/],
    [["bench", "--fast"], /unknown flag --fast/],
    [["trace"], /FILE is missing/],
    [["trace", "a.json", "--top", "x"], /--top must be a whole number/],
    [["frob"], /unknown command 'frob'/],
    [["--frob"], /unknown flag --frob/],
  ];
  for (const [args, message] of cases) {
    it(`fiberhost ${args.join(" ")}`, () => {
      const r = fiberhost(...args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    });
  }
});

describe("--help and --version", () => {
  it("--version prints the package's version", () => {
    const r = fiberhost("--version");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });

  it("--help lists the commands; each command's --help lists its flags", () => {
    const top = fiberhost("--help");
    expect(top.status).toBe(0);
    for (const word of ["demo", "bench", "trace FILE", "--version"]) expect(top.stdout).toContain(word);
    const flags: Record<string, string[]> = {
      demo: ["--fibers N", "--duration S", "--seed N", "--threads N", "--trace FILE", "--json"],
      bench: ["--quick", "--suite"],
      trace: ["--top N", "--json"],
    };
    for (const [command, list] of Object.entries(flags)) {
      const r = fiberhost(command, "--help");
      expect(r.status).toBe(0);
      for (const flag of list) expect(r.stdout).toContain(flag);
    }
  });

  it("no command at all prints the help on stderr and exits 2", () => {
    const r = fiberhost();
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Usage: fiberhost <command>");
  });
});

describe("the progress bar", () => {
  it("is drawn on a terminal, and cleared at the end", () => {
    const writes: string[] = [];
    const stop = startProgress({ isTTY: true, columns: 100, write: (t) => writes.push(t) }, () => ({
      done: 2500,
      total: 10_000,
      label: "fibers ended",
    }));
    stop();
    expect(writes[0]).toMatch(/^\r\[#{7,13}-+\] 2,500 \/ 10,000 fibers ended/);
    expect(writes.at(-1)).toBe("\r\x1b[K");
  });

  it("writes nothing when the stream is not a terminal (a pipe, a file)", () => {
    const writes: string[] = [];
    const stop = startProgress({ isTTY: false, write: (t) => writes.push(t) }, () => ({
      done: 1,
      total: 2,
      label: "",
    }));
    stop();
    expect(writes).toEqual([]);
  });
});
