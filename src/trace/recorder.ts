// The trace recorder: off by default (then it costs a boolean test on waits and nothing on
// transitions), recording into the core's ring buffer when on; exported as Chrome trace-event JSON,
// which Perfetto and chrome://tracing open.

import { TRANSITION_NAMES, type CoreDoor } from "../core/door.js";
import { TraceKind, Transition } from "../core/generated/layout.js";
import { hresultName } from "../base/hresult.js";
import type { Task } from "../task/task.js";

import { WAIT_ON as WAIT_ON_ } from "../task/state.js";
import { GEN as GEN_, IDX as IDX_ } from "../core/names.js";
import { DESCRIBE as DESCRIBE_ } from "../kernel/waitable.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const WAIT_ON: typeof WAIT_ON_ = WAIT_ON_;
const GEN: typeof GEN_ = GEN_;
const IDX: typeof IDX_ = IDX_;
const DESCRIBE: typeof DESCRIBE_ = DESCRIBE_;
const DEFAULT_CAPACITY = 1 << 16;

export interface ChromeTraceEvent {
  name: string;
  ph: "B" | "E" | "i" | "M";
  ts: number;
  pid: number;
  tid: number;
  /** The scope of an instant event: its fiber's track ("t") or the whole trace ("g"). */
  s?: "t" | "g";
  args?: Record<string, unknown>;
}

/** toChromeTrace()'s answer: the events, and what the ring lost. */
export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: "ns";
  /** Chrome's slot for metadata: the events recorded since start() and those the ring overwrote. */
  otherData: { recordedEvents: number; droppedEvents: number };
}

/** What the recorder keeps beyond what the ring refers to before it looks again: see prune(). */
const SLACK = 64;

export class TraceRecorder {
  on = false;
  // Fibers' names by handle ("idx:gen"), taken at spawn: a fiber may end (and its Task be
  // collected) while the ring still holds its events. Kept only while the ring refers to the fiber
  // or it is live (prune()), so that tracing a long run holds memory in proportion to the ring.
  private readonly names = new Map<string, string>();
  // What waits waited on, interned: a wait event's argument is an id here (the ring holds numbers).
  // Ids are never reused while the ring may refer to them; texts no event refers to are dropped.
  private readonly waitTexts = new Map<number, string>();
  private readonly waitIds = new Map<string, number>();
  private nextWaitId = 0;
  private capacity = 0;
  // The sizes at which names and waitTexts are next pruned (each prune's cost is paid for by the
  // entries added since the last one: at least the ring's capacity plus SLACK, and as many as were kept).
  private namesLimit = 0;
  private waitsLimit = 0;

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
    this.capacity = capacity;
    this.names.clear();
    this.waitTexts.clear();
    this.waitIds.clear();
    this.nextWaitId = 0;
    for (const t of this.liveTasks()) this.named(t);
    this.namesLimit = this.nextLimit(this.names.size);
    this.waitsLimit = this.nextLimit(0);
    return hr;
  }

  stop(): void {
    this.door.traceStop();
    this.on = false;
  }

  /** @internal */
  named(t: Task): void {
    if (!this.on) return;
    this.names.set(`${t[IDX]}:${t[GEN]}`, t.name);
    if (this.names.size > this.namesLimit) this.prune();
  }
  /** Events the ring overwrote since start() (it keeps the last `capacity`): 0 while nothing was lost. */
  get dropped(): number {
    return this.door.traceDropped();
  }

  /** @internal Called once the wait is set up (t.waitOn is what it waits on). */
  wait(t: Task): void {
    const text = t[WAIT_ON] ? t[WAIT_ON][DESCRIBE]() : "the runtime to resume";
    let id = this.waitIds.get(text);
    if (id === undefined) {
      if (this.waitIds.size >= this.waitsLimit) this.prune();
      // Ids wrap at 2^32 (the ring's argument is a u32); one the ring may still refer to is skipped.
      do {
        id = this.nextWaitId;
        this.nextWaitId = (this.nextWaitId + 1) >>> 0;
      } while (this.waitTexts.has(id));
      this.waitTexts.set(id, text);
      this.waitIds.set(text, id);
    }
    this.door.traceRecord(TraceKind.WAIT, t, id);
  }
  /** @internal */
  wake(t: Task): void {
    this.door.traceRecord(TraceKind.WAKE, t, 0);
  }

  /**
   * Forgets the names of fibers that have ended and that no event in the ring refers to, and the
   * wait texts no wait event in the ring refers to: what the recorder keeps is bounded by the ring
   * (and the live fibers), not by how long it has been recording.
   */
  private prune(): void {
    const tasks = new Set<string>();
    const waits = new Set<number>();
    this.door.forEachTraceEvent((kind, idx, gen, arg) => {
      tasks.add(`${idx}:${gen}`);
      if (kind === TraceKind.WAIT) waits.add(arg);
    });
    for (const key of this.names.keys()) {
      if (tasks.has(key)) continue;
      const colon = key.indexOf(":");
      if (!this.door.isLiveHandle(Number(key.slice(0, colon)), Number(key.slice(colon + 1)))) this.names.delete(key);
    }
    for (const [id, text] of this.waitTexts) {
      if (waits.has(id)) continue;
      this.waitTexts.delete(id);
      this.waitIds.delete(text);
    }
    this.namesLimit = this.nextLimit(this.names.size);
    this.waitsLimit = this.nextLimit(this.waitTexts.size);
  }
  private nextLimit(kept: number): number {
    return kept + Math.max(kept, this.capacity) + SLACK;
  }

  /** The recorded events as Chrome trace-event JSON (an object; JSON.stringify it to save). */
  toChromeTrace(): ChromeTrace {
    const out: ChromeTraceEvent[] = [];
    const dropped = this.door.traceDropped();
    const events = this.door.traceEvents();
    if (dropped > 0) {
      // A global instant where the kept events begin, so the loss shows on the timeline too.
      const ts = events.length > 0 ? events[0].time * 1000 : 0;
      out.push({ name: "events dropped", ph: "i", s: "g", ts, pid: 1, tid: 0, args: { dropped } });
    }
    const tids = new Map<string, number>();
    const running = new Set<number>();
    // A shared core's events come from every thread: each thread is a process of the trace (pid =
    // thread + 1), its tasks its threads; a plain core's are all thread 0's (pid 1).
    const pids = new Map<string, number>();
    const named = new Set<number>([1]);
    const root = this.door.rootIndex();
    for (const e of events) {
      const key = `${e.idx}:${e.gen}`;
      let tid = tids.get(key);
      if (tid === undefined) {
        tid = tids.size + 1;
        tids.set(key, tid);
        const pid = this.door.ownerOf(e.idx) + 1 || 1;
        pids.set(key, pid);
        if (!named.has(pid)) {
          named.add(pid);
          out.push({ name: "process_name", ph: "M", ts: 0, pid, tid: 0, args: { name: `thread ${pid - 1}` } });
        }
        const name = this.names.get(key) ?? (e.idx === root ? "root" : `task ${e.idx}`);
        out.push({ name: "thread_name", ph: "M", ts: 0, pid, tid, args: { name } });
      }
      const pid = pids.get(key)!;
      const ts = e.time * 1000; // the clock counts ms; trace events count µs
      if (e.kind === TraceKind.SWITCH_IN) {
        out.push({ name: "running", ph: "B", ts, pid, tid });
        running.add(tid);
      } else if (e.kind === TraceKind.SWITCH_OUT || e.kind === TraceKind.EXIT) {
        if (running.delete(tid)) out.push({ name: "running", ph: "E", ts, pid, tid });
        if (e.kind === TraceKind.EXIT) out.push({ name: "ExitTask", ph: "i", s: "t", ts, pid, tid });
      } else {
        const [name, args] = this.describeEvent(e.kind, e.arg);
        out.push({ name, ph: "i", s: "t", ts, pid, tid, ...(args ? { args } : {}) });
      }
    }
    return {
      traceEvents: out,
      displayTimeUnit: "ns",
      otherData: { recordedEvents: events.length + dropped, droppedEvents: dropped },
    };
  }

  /** An instant event's name and arguments. */
  private describeEvent(kind: TraceKind, arg: number): [string, Record<string, unknown> | undefined] {
    if (kind >= TraceKind.TRANSITION && kind < TraceKind.TRANSITION + 4) {
      const op = (kind - TraceKind.TRANSITION) as Transition;
      return [TRANSITION_NAMES[op], op === Transition.LEAVE ? { target: arg } : undefined];
    }
    if (kind >= TraceKind.FAILED && kind < TraceKind.FAILED + 4) {
      const op = (kind - TraceKind.FAILED) as Transition;
      return [`${TRANSITION_NAMES[op]} failed`, { hr: hresultName(arg), code: arg >>> 0 }];
    }
    switch (kind) {
      case TraceKind.WAIT:
        return ["wait", { on: this.waitTexts.get(arg) ?? "?" }];
      case TraceKind.WAKE:
        return ["wake", undefined];
      case TraceKind.ABORT:
        return ["abort requested", { rude: arg === 1 }];
      case TraceKind.ABORT_DELIVERED:
        return ["abort delivered", { rude: arg === 1 }];
      default:
        return [`event ${kind}`, { arg }];
    }
  }
}
