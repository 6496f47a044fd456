// The trace recorder: off by default (then it costs a boolean test on waits and nothing on
// transitions), recording into the core's ring buffer when on; exported as Chrome trace-event JSON,
// which Perfetto and chrome://tracing open.

import type { CoreDoor } from "./core/door.js";
import type { Task } from "./task.js";

const DEFAULT_CAPACITY = 1 << 16;
const KIND_NAMES = ["LeaveRuntime", "EnterRuntime", "ReverseEnterRuntime", "ReverseLeaveRuntime"];

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
  private ev!: Record<string, number>;

  /** @internal */
  constructor(private readonly door: CoreDoor, private readonly liveTasks: () => Iterable<Task>) {}

  /** Starts recording into a ring of `capacity` events (the oldest are overwritten). */
  start(capacity = DEFAULT_CAPACITY): number {
    const hr = this.door.traceStart(capacity);
    if (hr !== 0) return hr;
    this.on = true;
    this.ev = {
      switchIn: this.door.constant("EV_SWITCH_IN"),
      switchOut: this.door.constant("EV_SWITCH_OUT"),
      wait: this.door.constant("EV_WAIT"),
      wake: this.door.constant("EV_WAKE"),
      exit: this.door.constant("EV_EXIT"),
    };
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
    this.door.traceRecord(this.ev.wait, t, 0);
  }
  /** @internal */
  wake(t: Task): void {
    this.door.traceRecord(this.ev.wake, t, 0);
  }

  /** The recorded events as Chrome trace-event JSON (an object; JSON.stringify it to save). */
  toChromeTrace(): { traceEvents: ChromeTraceEvent[]; displayTimeUnit: "ns" } {
    const out: ChromeTraceEvent[] = [];
    const tids = new Map<string, number>();
    const running = new Set<number>();
    const ev = this.ev ?? {};
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
      if (e.kind === ev.switchIn) {
        out.push({ name: "running", ph: "B", ts, pid: 1, tid });
        running.add(tid);
      } else if (e.kind === ev.switchOut || e.kind === ev.exit) {
        if (running.delete(tid)) out.push({ name: "running", ph: "E", ts, pid: 1, tid });
        if (e.kind === ev.exit) out.push({ name: "ExitTask", ph: "i", s: "t", ts, pid: 1, tid });
      } else {
        const name = e.kind < 4 ? KIND_NAMES[e.kind] : e.kind === ev.wait ? "wait" : "wake";
        const args = e.kind === 0 ? { target: e.arg } : undefined;
        out.push({ name, ph: "i", s: "t", ts, pid: 1, tid, ...(args ? { args } : {}) });
      }
    }
    return { traceEvents: out, displayTimeUnit: "ns" };
  }
}
