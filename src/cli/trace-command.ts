// `fiberhost trace FILE`: a summary of a saved Chrome trace (what `fiberhost demo --trace` and
// host.trace.toChromeTrace() write): its fibers, transitions by kind, and the longest waits.

import { readFileSync } from "node:fs";
import { integerFlag, parseCommand, UsageError } from "./flags.js";
import { errorText, printable, printableJson } from "./format.js";
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
type TransitionName = (typeof TRANSITIONS)[number];

/** How deep arrays and objects may nest in a trace file: the recorder writes 4 levels; other tools a few more. */
export const MAX_DEPTH = 64;
/** A timestamp (µs) beyond this is not one: differences of two stay exact and finite. */
const MAX_TS = Number.MAX_SAFE_INTEGER;

export interface TraceSummary {
  events: number;
  /** From the first timed event to the last, in ms. */
  spanMs: number;
  fibers: number;
  exited: number;
  switches: number;
  transitions: Record<TransitionName, number>;
  waits: { count: number; unfinished: number; longest: { fiber: string; startMs: number; ms: number }[] };
  /** Transitions the core refused ("LeaveRuntime failed" …), by HRESULT name (a null-prototype object). */
  refused: Record<string, number>;
  aborts: { requested: number; delivered: number };
  /** Events the recorder's ring overwrote before the trace was saved (otherData.droppedEvents). */
  dropped: number;
}

/** A file that is not a trace this command understands: main() prints its message as one line, exit 1. */
export class TraceFormatError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** An own property of a parsed object (never one of Object.prototype's: "constructor", "toString" …). */
function own(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/**
 * Refuses JSON text nested deeper than `max` arrays and objects, before it is parsed: a trace is
 * shallow, and what reads it later (a formatter, a viewer) may recurse.
 */
export function checkDepth(text: string, max = MAX_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) throw new TraceFormatError(`arrays and objects nest deeper than ${max} levels`);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** Reads one event's fields: each present one of its type, or the file is refused naming it. */
function readEvent(e: unknown, i: number) {
  if (!isObject(e)) throw new TraceFormatError(`event ${i} is not an object`);
  const wrong = (field: string, what: string): never => {
    throw new TraceFormatError(`event ${i}: ${field} is not ${what}`);
  };
  const name = own(e, "name");
  if (name !== undefined && typeof name !== "string") wrong("name", "a string");
  const ph = own(e, "ph");
  if (ph !== undefined && typeof ph !== "string") wrong("ph", "a string");
  const ts = own(e, "ts");
  if (ts !== undefined && !(typeof ts === "number" && Math.abs(ts) <= MAX_TS)) wrong("ts", "a number of µs");
  const tid = own(e, "tid");
  if (tid !== undefined && typeof tid !== "number" && typeof tid !== "string") wrong("tid", "a number or a string");
  const args = own(e, "args");
  if (args !== undefined && !isObject(args)) wrong("args", "an object");
  const arg = (key: string): unknown => (args === undefined ? undefined : own(args as Record<string, unknown>, key));
  return {
    name: name as string | undefined,
    ph: ph as string | undefined,
    ts: ts as number | undefined,
    tid,
    arg,
    wrong,
  };
}

/** Reads the summary out of a parsed trace (an object with traceEvents, or a bare event array). */
export function summarizeTrace(trace: unknown, top = 10): TraceSummary {
  const events = Array.isArray(trace) ? trace : isObject(trace) ? own(trace, "traceEvents") : undefined;
  if (!Array.isArray(events)) throw new TraceFormatError("not a Chrome trace-event file (no traceEvents array)");
  let dropped = 0;
  const otherData = isObject(trace) ? own(trace, "otherData") : undefined;
  if (otherData !== undefined) {
    if (!isObject(otherData)) throw new TraceFormatError("otherData is not an object");
    const d = own(otherData, "droppedEvents");
    if (d !== undefined && !(Number.isSafeInteger(d) && (d as number) >= 0))
      throw new TraceFormatError("otherData.droppedEvents is not a count");
    dropped = (d as number | undefined) ?? 0;
  }
  // Keyed by tid and by HRESULT name in Maps: a file's "__proto__" or "constructor" is a key like any other.
  const names = new Map<unknown, string>();
  const waitingSince = new Map<unknown, number>();
  const transitions = new Map<string, number>(TRANSITIONS.map((k) => [k, 0]));
  const waits: { fiber: unknown; start: number; us: number }[] = [];
  const refused = new Map<string, number>();
  const aborts = { requested: 0, delivered: 0 };
  let exited = 0;
  let switches = 0;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < events.length; i++) {
    const e = readEvent(events[i], i);
    if (e.ph === "M") {
      if (e.name === "thread_name") {
        const name = e.arg("name");
        if (name === undefined) names.set(e.tid, String(e.tid));
        else if (typeof name === "string") names.set(e.tid, name);
        else e.wrong("args.name", "a string");
      }
      continue;
    }
    // An event without a time (the recorder always writes one) is counted, but starts and ends no
    // wait. Times stay in µs (exact for the recorder's integers) until the summary's ms.
    const ts = e.ts;
    if (ts !== undefined) {
      first = Math.min(first, ts);
      last = Math.max(last, ts);
    }
    const name = e.name;
    if (name === undefined) continue;
    if (e.ph === "B" && name === "running") switches++;
    else if (name === "ExitTask") exited++;
    else if (name === "wait") {
      if (ts !== undefined) waitingSince.set(e.tid, ts);
    } else if (name === "wake") {
      const since = waitingSince.get(e.tid);
      if (since !== undefined && ts !== undefined) {
        waits.push({ fiber: e.tid, start: since, us: ts - since });
        waitingSince.delete(e.tid);
      }
    } else if (transitions.has(name)) transitions.set(name, (transitions.get(name) ?? 0) + 1);
    else if (name.endsWith(" failed")) {
      const hr = e.arg("hr");
      if (hr !== undefined && typeof hr !== "string") e.wrong("args.hr", "a string");
      const key = (hr as string | undefined) ?? "?";
      refused.set(key, (refused.get(key) ?? 0) + 1);
    } else if (name === "abort requested") aborts.requested++;
    else if (name === "abort delivered") aborts.delivered++;
  }
  waits.sort((a, b) => b.us - a.us || a.start - b.start);
  const origin = Number.isFinite(first) ? first : 0;
  const ms = (us: number): number => us / 1000;
  const refusedOut: Record<string, number> = Object.create(null);
  for (const [hr, k] of refused) refusedOut[hr] = k;
  return {
    events: events.length,
    spanMs: Number.isFinite(first) ? ms(last - first) : 0,
    fibers: names.size,
    exited,
    switches,
    transitions: Object.fromEntries(TRANSITIONS.map((k) => [k, transitions.get(k) ?? 0])) as Record<
      TransitionName,
      number
    >,
    waits: {
      count: waits.length,
      unfinished: waitingSince.size,
      longest: waits.slice(0, top).map((w) => ({
        fiber: names.get(w.fiber) ?? `tid ${String(w.fiber)}`,
        startMs: ms(w.start - origin),
        ms: ms(w.us),
      })),
    },
    refused: refusedOut,
    aborts,
    dropped,
  };
}

const n = (x: number): string => x.toLocaleString("en-US", { maximumFractionDigits: 3 });

/** The summary as text; every name from the file (and the file's own) escaped for the terminal. */
export function formatTraceSummary(file: string, s: TraceSummary): string {
  const lines = [
    `${printable(file)}: ${n(s.events)} events over ${n(s.spanMs)} ms`,
    `  fibers       ${n(s.fibers)} (${n(s.exited)} exited in the trace), ${n(s.switches)} switches in`,
    `  transitions  ${TRANSITIONS.map((k) => `${k} ${n(s.transitions[k])}`).join(" · ")}`,
    `  waits        ${n(s.waits.count)} ended, ${n(s.waits.unfinished)} still waiting at the end`,
  ];
  const refused = Object.entries(s.refused);
  if (refused.length > 0)
    lines.push(`  refused      ${refused.map(([hr, k]) => `${printable(hr)} ${n(k)}`).join(" · ")}`);
  if (s.aborts.requested + s.aborts.delivered > 0)
    lines.push(`  aborts       ${n(s.aborts.requested)} requested, ${n(s.aborts.delivered)} delivered`);
  if (s.dropped > 0)
    lines.push(
      `  dropped      ${n(s.dropped)} earlier events (the ring overflowed: start the trace with a larger capacity)`,
    );
  if (s.waits.longest.length > 0) {
    lines.push("  longest waits:");
    for (const w of s.waits.longest)
      lines.push(`    ${n(w.ms).padStart(10)} ms  ${printable(w.fiber)} (from ${n(w.startMs)} ms)`);
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
  // The file is untrusted input: anything wrong with it is one line and exit code 1.
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    io.err(`fiberhost trace: cannot read ${printable(file)}: ${printable(errorText(err), 400)}`);
    return 1;
  }
  let summary: TraceSummary;
  try {
    checkDepth(text);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new TraceFormatError(`not JSON (${errorText(err)})`);
    }
    summary = summarizeTrace(parsed, top);
  } catch (err) {
    if (!(err instanceof TraceFormatError)) throw err;
    io.err(`fiberhost trace: ${printable(file)}: ${printable(err.message, 400)}`);
    return 1;
  }
  io.out(values.json ? printableJson(summary) : formatTraceSummary(file, summary));
  return 0;
}
