// `fiberhost demo`: runs the demo scenario and prints its summary (text, or JSON with --json).

import { closeSync, openSync, writeSync } from "node:fs";
import { UsageError, integerFlag, parseCommand, secondsFlag } from "./flags.js";
import { errorText, formatSummary, formatThreads, printable, summaryOk } from "./format.js";
import { startProgress } from "./progress.js";
import { Scenario } from "../demo/scenario.js";
import type { DemoSummary } from "../demo/summary.js";
import { runThreads, threadsOk } from "../demo/threads-demo.js";
import { MAX_THREADS } from "../threads/coord.js";
import type { Io } from "./io.js";

/** Trace events kept with --trace: enough for the whole default run (the ring keeps the last ones). */
const TRACE_CAPACITY = 1 << 20;

export const DEMO_HELP = `Usage: fiberhost demo [--fibers N] [--duration S] [--seed N] [--threads N] [--trace FILE] [--json]

Runs the demo scenario on one host: request handlers that call a guest module whose import calls
back into its exports (Leave/Enter/ReverseEnter/ReverseLeave through the hooks), fibers born in
unmanaged code whose reverse enters are never left, workers that sleep, wait on an event and contend
for Crsts, a collector that suspends and resumes the runtime every few milliseconds, and a
supervisor that aborts some fibers and alerts others. It runs on a virtual clock, so a seed always
gives the same run; then it prints a summary.

With --threads N the run spans N worker threads on one shared runtime: each worker runs its share
of the fibers on its own host, on a real clock, while the main thread's collector stops the world
across all of them; the summary has a line per worker and the runtime's totals.

Options:
  --fibers N      workload fibers to run (default 10000)
  --duration S    seconds of scenario time over which they arrive (default 2)
  --seed N        names the run (default 1)
  --threads N     run across N worker threads (1 to ${MAX_THREADS - 1}, or auto: the cores − 1)
  --trace FILE    write the run's Chrome trace-event JSON to FILE (open it in https://ui.perfetto.dev)
  --json          print the summary as one JSON object on stdout
  -h, --help      show this help

Exit codes: 0 the run passed its checks, 1 it did not, 2 bad flags.`;

export async function demo(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommand("fiberhost demo", argv, {
    fibers: { type: "string" },
    duration: { type: "string" },
    seed: { type: "string" },
    threads: { type: "string" },
    trace: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(DEMO_HELP);
    return 0;
  }
  const fibers = integerFlag("fiberhost demo", "fibers", values.fibers, 10_000, 1, 1_000_000);
  const duration = secondsFlag("fiberhost demo", "duration", values.duration, 2, 3600);
  const seed = integerFlag("fiberhost demo", "seed", values.seed, 1, 0, 0xffffffff);
  const tracePath = values.trace as string | undefined;
  if (tracePath === "") throw new UsageError("fiberhost demo: --trace needs a file name");
  if (values.threads !== undefined) {
    const threads = threadsFlag(values.threads);
    if (tracePath !== undefined)
      throw new UsageError("fiberhost demo: --trace records one thread's host: it does not go with --threads");
    const summary = await runThreads({ threads, fibers, durationMs: duration * 1000, seed });
    io.out(values.json ? JSON.stringify(summary) : formatThreads(summary));
    return threadsOk(summary) ? 0 : 1;
  }
  // Opened before the run, so that a path that cannot be written fails now, not after it.
  let traceFile = -1;
  if (tracePath) {
    try {
      traceFile = openSync(tracePath, "w");
    } catch (err) {
      io.err(`fiberhost demo: cannot write the trace to ${printable(tracePath)}: ${printable(errorText(err), 400)}`);
      return 1;
    }
  }

  const scenario = await Scenario.create({
    fibers,
    durationMs: duration * 1000,
    seed,
    traceCapacity: tracePath ? TRACE_CAPACITY : 0,
  });
  const stop = startProgress(io.progress, () => ({
    done: scenario.ended,
    total: scenario.total,
    label: "fibers ended",
  }));
  let summary: DemoSummary;
  try {
    summary = await scenario.run();
  } finally {
    stop();
  }
  if (tracePath) {
    const trace = scenario.host.trace.toChromeTrace();
    // A write can still fail (a full disk, /dev/full, a quota): one line and exit code 1.
    try {
      writeAll(traceFile, JSON.stringify(trace));
    } catch (err) {
      io.err(`fiberhost demo: cannot write the trace to ${printable(tracePath)}: ${printable(errorText(err), 400)}`);
      return 1;
    } finally {
      try {
        closeSync(traceFile);
      } catch {
        // (Already reported, or nothing a user can act on: the write above succeeded.)
      }
    }
    io.err(
      `trace: ${trace.traceEvents.length.toLocaleString("en-US")} events written to ${printable(tracePath)} (open it in https://ui.perfetto.dev, or: fiberhost trace ${printable(tracePath)})`,
    );
  }
  io.out(values.json ? JSON.stringify(summary) : formatSummary(summary));
  return summaryOk(summary) ? 0 : 1;
}

/** Writes all of `text` (writeSync may write part of it: a pipe, a signal). */
function writeAll(fd: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
}

/** --threads: a whole number from 1 to MAX_THREADS − 1, or "auto". */
function threadsFlag(value: string | boolean): number | "auto" {
  if (value === "auto") return "auto";
  return integerFlag("fiberhost demo", "threads", value, 1, 1, MAX_THREADS - 1, "or 'auto'");
}
