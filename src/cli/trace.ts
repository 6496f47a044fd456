// `fiberhost trace FILE`: a summary of a saved Chrome trace (what `fiberhost demo --trace` and
// host.trace.toChromeTrace() write): its fibers, transitions by kind, and the longest waits.

import { readFileSync } from "node:fs";
import { integerFlag, parseCommand, UsageError } from "./args.js";
import type { Io } from "./io.js";

export const TRACE_HELP = `Usage: fiberhost trace FILE [--top N] [--json]

Summarises a Chrome trace-event file written by \`fiberhost demo --trace FILE\` (or by
host.trace.toChromeTrace()): the fibers in it, the transitions by kind, switches, the longest
waits (from a fiber's wait to its wake), refused transitions by HRESULT, aborts requested and
delivered, and the events the recorder's ring dropped when it overflowed.

Options:
  --top N      how many of the longest waits to list (default 10)
  --json       print the summary as one JSON object on stdout
  -h, --help   show this help`;

const TRANSITIONS = ["LeaveRuntime", "EnterRuntime", "ReverseEnterRuntime", "ReverseLeaveRuntime"] as const;

interface TraceEvent {
  name?: unknown;
  ph?: unknown;
  ts?: unknown;
  tid?: unknown;
  args?: { name?: unknown };
}

export interface TraceSummary {
  events: number;
  /** From the first timed event to the last, in ms. */
  spanMs: number;
  fibers: number;
  exited: number;
  switches: number;
  transitions: Record<(typeof TRANSITIONS)[number], number>;
  waits: { count: number; unfinished: number; longest: { fiber: string; startMs: number; ms: number }[] };
  /** Transitions the core refused ("LeaveRuntime failed" …), by HRESULT name. */
  refused: Record<string, number>;
  aborts: { requested: number; delivered: number };
  /** Events the recorder's ring overwrote before the trace was saved (otherData.droppedEvents). */
  dropped: number;
}

export class TraceFormatError extends Error {}

/** Reads the summary out of a parsed trace (an object with traceEvents, or a bare event array). */
export function summarizeTrace(trace: unknown, top = 10): TraceSummary {
  const events = Array.isArray(trace) ? trace : (trace as { traceEvents?: unknown } | null)?.traceEvents;
  if (!Array.isArray(events)) throw new TraceFormatError("not a Chrome trace-event file (no traceEvents array)");
  const names = new Map<unknown, string>();
  const waitingSince = new Map<unknown, number>();
  const transitions = Object.fromEntries(TRANSITIONS.map((k) => [k, 0])) as TraceSummary["transitions"];
  const waits: { fiber: unknown; startMs: number; ms: number }[] = [];
  const refused: Record<string, number> = {};
  const aborts = { requested: 0, delivered: 0 };
  let exited = 0;
  let switches = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const e of events as TraceEvent[]) {
    if (typeof e !== "object" || e === null)
      throw new TraceFormatError("not a Chrome trace-event file (an event is not an object)");
    if (e.ph === "M") {
      if (e.name === "thread_name") names.set(e.tid, String(e.args?.name ?? e.tid));
      continue;
    }
    const ts = typeof e.ts === "number" ? e.ts / 1000 : NaN;
    if (Number.isFinite(ts)) {
      first = Math.min(first, ts);
      last = Math.max(last, ts);
    }
    if (e.ph === "B" && e.name === "running") switches++;
    else if (e.name === "ExitTask") exited++;
    else if (e.name === "wait") waitingSince.set(e.tid, ts);
    else if (e.name === "wake") {
      const since = waitingSince.get(e.tid);
      if (since !== undefined) {
        waits.push({ fiber: e.tid, startMs: since, ms: ts - since });
        waitingSince.delete(e.tid);
      }
    } else if (typeof e.name === "string" && e.name in transitions) transitions[e.name as keyof typeof transitions]++;
    else if (typeof e.name === "string" && e.name.endsWith(" failed")) {
      const hr = String((e.args as { hr?: unknown } | undefined)?.hr ?? "?");
      refused[hr] = (refused[hr] ?? 0) + 1;
    } else if (e.name === "abort requested") aborts.requested++;
    else if (e.name === "abort delivered") aborts.delivered++;
  }
  waits.sort((a, b) => b.ms - a.ms || a.startMs - b.startMs);
  const origin = Number.isFinite(first) ? first : 0;
  const dropped =
    Number((trace as { otherData?: { droppedEvents?: unknown } } | null)?.otherData?.droppedEvents ?? 0) || 0;
  return {
    events: events.length,
    spanMs: Number.isFinite(first) ? last - first : 0,
    fibers: names.size,
    exited,
    switches,
    transitions,
    waits: {
      count: waits.length,
      unfinished: waitingSince.size,
      longest: waits
        .slice(0, top)
        .map((w) => ({ fiber: names.get(w.fiber) ?? `tid ${String(w.fiber)}`, startMs: w.startMs - origin, ms: w.ms })),
    },
    refused,
    aborts,
    dropped,
  };
}

const n = (x: number): string => x.toLocaleString("en-US", { maximumFractionDigits: 3 });

export function formatTraceSummary(file: string, s: TraceSummary): string {
  const lines = [
    `${file}: ${n(s.events)} events over ${n(s.spanMs)} ms`,
    `  fibers       ${n(s.fibers)} (${n(s.exited)} exited in the trace), ${n(s.switches)} switches in`,
    `  transitions  ${TRANSITIONS.map((k) => `${k} ${n(s.transitions[k])}`).join(" · ")}`,
    `  waits        ${n(s.waits.count)} ended, ${n(s.waits.unfinished)} still waiting at the end`,
  ];
  const refused = Object.entries(s.refused);
  if (refused.length > 0) lines.push(`  refused      ${refused.map(([hr, k]) => `${hr} ${n(k)}`).join(" · ")}`);
  if (s.aborts.requested + s.aborts.delivered > 0)
    lines.push(`  aborts       ${n(s.aborts.requested)} requested, ${n(s.aborts.delivered)} delivered`);
  if (s.dropped > 0)
    lines.push(
      `  dropped      ${n(s.dropped)} earlier events (the ring overflowed: start the trace with a larger capacity)`,
    );
  if (s.waits.longest.length > 0) {
    lines.push("  longest waits:");
    for (const w of s.waits.longest) lines.push(`    ${n(w.ms).padStart(10)} ms  ${w.fiber} (from ${n(w.startMs)} ms)`);
  }
  return lines.join("\n");
}

export async function trace(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(
    "fiberhost trace",
    argv,
    { top: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    1,
  );
  if (values.help) {
    io.out(TRACE_HELP);
    return 0;
  }
  const top = integerFlag("fiberhost trace", "top", values.top, 10, 0, 1000);
  const file = positionals[0];
  if (file === undefined) throw new UsageError("fiberhost trace: FILE is missing (fiberhost trace FILE)");
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    io.err(`fiberhost trace: cannot read ${file}: ${(err as Error).message}`);
    return 1;
  }
  let summary: TraceSummary;
  try {
    summary = summarizeTrace(parsed, top);
  } catch (err) {
    if (!(err instanceof TraceFormatError)) throw err;
    io.err(`fiberhost trace: ${file}: ${err.message}`);
    return 1;
  }
  io.out(values.json ? JSON.stringify(summary) : formatTraceSummary(file, summary));
  return 0;
}
