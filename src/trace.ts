// The trace recorder: off by default (then it costs a boolean test on waits and nothing on
// transitions), recording into the core's ring buffer when on; exported as Chrome trace-event JSON,
// which Perfetto and chrome://tracing open.

import { TRANSITION_NAMES, type CoreDoor } from "./core/door.js";
import { TraceKind, Transition } from "./core/generated/layout.js";
import type { Task } from "./task.js";

const DEFAULT_CAPACITY = 1 << 16;

export interface ChromeTraceEvent {
  name: string;
  ph: "B" | "E" | "i" | "M";
  ts: number;
  pid: number;
  tid: number;
  s?: "t";
  args?: Record<string, unknown>;
}

export class TraceRecorder {
  on = false;
  private readonly names = new Map<string, string>();

  /** @internal */
  constructor(
    private readonly door: CoreDoor,
    private readonly liveTasks: () => Iterable<Task>,
  ) {}

  /**
   * Starts recording into a ring of `capacity` events (the oldest are overwritten): S_OK,
   * E_INVALIDARG for a capacity outside 1 … 2^24, E_OUTOFMEMORY, HOST_E_CLRNOTAVAILABLE. A
   * restart reuses the ring, or gives it back when a larger one is needed.
   */
  start(capacity = DEFAULT_CAPACITY): number {
    const hr = this.door.traceStart(capacity);
    if (hr !== 0) return hr;
    this.on = true;
    this.names.clear();
    for (const t of this.liveTasks()) this.named(t);
    return hr;
  }

  stop(): void {
    this.door.traceStop();
    this.on = false;
  }

  /** @internal */
  named(t: Task): void {
    if (this.on) this.names.set(`${t.idx}:${t.gen}`, t.name);
  }
  /** @internal */
  wait(t: Task): void {
    this.door.traceRecord(TraceKind.WAIT, t, 0);
  }
  /** @internal */
  wake(t: Task): void {
    this.door.traceRecord(TraceKind.WAKE, t, 0);
  }

  /** The recorded events as Chrome trace-event JSON (an object; JSON.stringify it to save). */
  toChromeTrace(): { traceEvents: ChromeTraceEvent[]; displayTimeUnit: "ns" } {
    const out: ChromeTraceEvent[] = [];
    const tids = new Map<string, number>();
    const running = new Set<number>();
    for (const e of this.door.traceEvents()) {
      const key = `${e.idx}:${e.gen}`;
      let tid = tids.get(key);
      if (tid === undefined) {
        tid = tids.size + 1;
        tids.set(key, tid);
        const name = this.names.get(key) ?? (e.idx === 0 ? "root" : `task ${e.idx}`);
        out.push({ name: "thread_name", ph: "M", ts: 0, pid: 1, tid, args: { name } });
      }
      const ts = e.time * 1000; // the clock counts ms; trace events count µs
      if (e.kind === TraceKind.SWITCH_IN) {
        out.push({ name: "running", ph: "B", ts, pid: 1, tid });
        running.add(tid);
      } else if (e.kind === TraceKind.SWITCH_OUT || e.kind === TraceKind.EXIT) {
        if (running.delete(tid)) out.push({ name: "running", ph: "E", ts, pid: 1, tid });
        if (e.kind === TraceKind.EXIT) out.push({ name: "ExitTask", ph: "i", s: "t", ts, pid: 1, tid });
      } else {
        const op = (e.kind - TraceKind.TRANSITION) as Transition;
        const name = op in TRANSITION_NAMES ? TRANSITION_NAMES[op] : e.kind === TraceKind.WAIT ? "wait" : "wake";
        const args = op === Transition.LEAVE ? { target: e.arg } : undefined;
        out.push({ name, ph: "i", s: "t", ts, pid: 1, tid, ...(args ? { args } : {}) });
      }
    }
    return { traceEvents: out, displayTimeUnit: "ns" };
  }
}
