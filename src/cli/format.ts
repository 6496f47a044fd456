// The demo's summary as text for a terminal, and how any text a user or a file gave is shown on one.

import type { DemoSummary } from "../demo/summary.js";
import type { ThreadsSummary } from "../demo/threads-demo.js";

const n = (x: number): string => x.toLocaleString("en-US");
const ms = (x: number): string => `${x.toLocaleString("en-US", { maximumFractionDigits: 1 })} ms`;
const mark = (ok: boolean): string => (ok ? "yes" : "NO");

export function formatSummary(s: DemoSummary): string {
  const t = s.transitions;
  const kinds = Object.entries(s.fibers.byKind)
    .map(([k, v]) => `${n(v)} ${k}`)
    .join(", ");
  const failures = Object.entries(s.fibers.failures)
    .map(([k, v]) => `${n(v)} ${k}`)
    .join(", ");
  const waits = Object.entries(s.waits)
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(" · ");
  const w = s.suspensions.enterWaitMs;
  const lines = [
    `fiberhost demo: ${n(s.fibers.spawned)} fibers, seed ${s.seed}, ${s.clock} clock`,
    `  fibers       ${kinds}`,
    `               ${n(s.fibers.finished)} finished, ${n(s.fibers.aborted)} aborted, ${n(s.fibers.failed)} failed${failures ? ` (${failures})` : ""}`,
    `  transitions  ${n(t.total)}, ${n(t.perSecond)} per second`,
    `               LeaveRuntime ${n(t.leaveRuntime)} · EnterRuntime ${n(t.enterRuntime)} · ReverseEnterRuntime ${n(t.reverseEnterRuntime)} · ReverseLeaveRuntime ${n(t.reverseLeaveRuntime)}`,
    `               unmatched reverse enters ${n(s.unmatchedReverseEnter)} (fibers born in unmanaged code that never left)`,
    `  guest        ${n(s.guest.requests)} requests into the example guest (host.instantiate, ${s.guest.suspension}): ${n(s.guest.importCalls)} import calls, ${n(s.guest.blocks)} blocked inside it`,
    `  waits        ${waits}`,
    `  suspensions  ${n(s.suspensions.count)}; ${n(s.suspensions.enteringWaited)} entering fibers waited: p50 ${ms(w.p50)}, p99 ${ms(w.p99)}, max ${ms(w.max)}`,
    `  supervisor   ${n(s.aborts.requested)} aborts sent, ${n(s.aborts.delivered)} delivered; ${n(s.alerts.sent)} alerts`,
    `  checks       balanced ${mark(s.checks.balanced)} · invariants ${mark(s.checks.invariants)} · live tasks after the run ${n(s.checks.liveTasks)}`,
    `  time         ${ms(s.scenarioMs)} of scenario time in ${ms(s.wallMs)}`,
  ];
  return lines.join("\n");
}

/** The summary of a run across workers: a line per worker, then the runtime's totals. */
export function formatThreads(s: ThreadsSummary): string {
  const t = s.total;
  const fibers = (f: ThreadsSummary["total"]["fibers"]): string =>
    `${n(f.spawned)} fibers (${n(f.finished)} finished, ${n(f.aborted)} aborted, ${n(f.failed)} failed)`;
  const h = t.suspensions.holdAllMs;
  const failures = Object.entries(t.fibers.failures)
    .map(([k, v]) => `${n(v)} ${k}`)
    .join(", ");
  const lines = [
    `fiberhost demo: ${n(t.fibers.spawned)} fibers on ${n(s.threads)} worker thread${s.threads === 1 ? "" : "s"}, seed ${s.seed}, ${s.clock} clock`,
    ...s.workers.map(
      (w) =>
        `  worker ${w.index + 1}     thread ${w.thread}: ${fibers(w.fibers)} · transitions ${n(w.transitions)} · switches ${n(w.switches)} · ${ms(w.wallMs)}`,
    ),
    `  total        ${fibers(t.fibers)}${failures ? ` (${failures})` : ""}`,
    `  transitions  ${n(t.transitions.total)}, ${n(t.transitions.perSecond)} per second (the shared core's counters, every thread)`,
    `               LeaveRuntime ${n(t.transitions.leaveRuntime)} · EnterRuntime ${n(t.transitions.enterRuntime)} · ReverseEnterRuntime ${n(t.transitions.reverseEnterRuntime)} · ReverseLeaveRuntime ${n(t.transitions.reverseLeaveRuntime)}`,
    `               unmatched reverse enters ${n(t.unmatchedReverseEnter)}`,
    `  switches     ${n(t.switches.switchIn)} in · ${n(t.switches.switchOut)} out`,
    `  suspensions  ${n(t.suspensions.count)} across every worker; each held them all after p50 ${ms(h.p50)}, p99 ${ms(h.p99)}, max ${ms(h.max)}${t.suspensions.unacknowledged ? `; ${n(t.suspensions.unacknowledged)} not acknowledged by every worker within 500 ms (resumed)` : ""}`,
    `  checks       balanced ${mark(s.checks.balanced)} · invariants ${mark(s.checks.invariants)}`,
    `  time         ${ms(s.wallMs)}`,
  ];
  return lines.join("\n");
}

/** True when the run did what it should: the checks hold and no fiber failed. */
export function summaryOk(s: DemoSummary): boolean {
  return s.checks.balanced && s.checks.invariants && s.checks.liveTasks === 1 && s.fibers.failed === 0;
}

// C0 and C1 controls (escape sequences start with ESC or CSI), DEL, the line and paragraph
// separators and the bidirectional overrides and isolates (which reorder what follows them), and
// the backslash, so that an escaped text never reads as another.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is its job
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/g;
const escapeOne = (c: string): string => (c === "\\" ? "\\\\" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/**
 * Text from a file or a user (a fiber's name, an HRESULT's name, a path) as it may reach a
 * terminal: on one line, every control character escaped (`\u001b`), at most `max` characters.
 */
export function printable(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return cut.replace(UNPRINTABLE, escapeOne);
}

/**
 * JSON for a terminal: JSON.stringify escapes the C0 controls; this also escapes C1 controls, DEL,
 * the separators and the bidirectional controls (as \uXXXX: the same JSON values).
 */
export function printableJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, escapeOne);
}

/** A caught error's message for one line ("ENOSPC: no space left on device, write"), never its stack. */
export function errorText(err: unknown): string {
  try {
    return err instanceof Error ? String(err.message) : String(err);
  } catch {
    return "an error that cannot be shown";
  }
}
