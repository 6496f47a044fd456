// The demo scenario: thousands of fibers of several kinds on one host, with a collector that stops
// the world every few milliseconds and a supervisor that aborts some fibers and alerts others.
// With the virtual clock (the default) a seed names the run: every choice is drawn from seeded
// streams and no real time decides an order (the guest's blocking fetches answer promises that are
// already resolved, settled in program order), so the same seed gives the same summary (but for
// the real-time fields). The CLI (`fiberhost demo`) and the demo page (web/) both run it; the
// workload fibers are in workload.ts, the background fibers in background.ts, the counting in tally.ts.

import type { FiberContext } from "../fiber/context.js";
import { createHost, type Host } from "../host/host.js";
import { S_OK, THREAD_PRIORITY_HIGHEST } from "../base/hresult.js";
import type { Op } from "../operations/operation.js";
import type { AutoEvent, Crst } from "../sync/objects.js";
import type { Task } from "../task/task.js";
import { collector, spawner, supervisor, ticker, type Stage } from "./background.js";
import { createGuest, type DemoGuest, type GuestOptions } from "./demo-guest.js";
import { fiberSeed, random, type Random } from "./random.js";
import type { DemoSummary, FiberKind } from "./summary.js";
import { Tally } from "./tally.js";
import { BODIES, drawKind, type Workload } from "./workload.js";

export interface ScenarioOptions {
  /** Workload fibers to spawn (default 10,000). */
  fibers?: number;
  /** Scenario time over which they arrive, in ms (default 2,000). */
  durationMs?: number;
  /** Names the run (default 1). */
  seed?: number;
  /** 'virtual' (default: deterministic, as fast as the CPU goes) or 'real' (the page). */
  clock?: "virtual" | "real";
  /** Record a trace of this many events (the last ones are kept; default 0: no trace). */
  traceCapacity?: number;
  /** Keep the collector, supervisor and ticker going after the workload ends (the page). */
  continuous?: boolean;
  /** Multiplies the workload's sleeps and wait timeouts (default 1; the page slows fibers down to be seen). */
  pace?: number;
  /** How the guest's blocking host_fetch behaves (the page gives it a real delay). */
  guest?: GuestOptions;
  /**
   * This run is one worker's share of a run across workers (threads-entry.ts): it spawns the
   * fibers numbered `index`, `index + of`, … of the whole run, and has no collector (the main
   * thread stops the world for every worker).
   */
  share?: { index: number; of: number };
}

/** What a lane of the page shows for a fiber. */
export type FiberStatus = "managed" | "unmanaged" | "waiting" | "held" | "done";

const LOCKS = 16;

export class Scenario implements Workload, Stage {
  readonly host: Host;
  readonly guest: DemoGuest;
  readonly seed: number;
  readonly total: number;
  readonly durationMs: number;
  private readonly continuous: boolean;
  private readonly clock: "virtual" | "real";
  private readonly pace: number;
  readonly share: { index: number; of: number } | undefined;

  /** Workload fibers that have started and not ended (the supervisor's and the lanes' pick). */
  readonly live: Task[] = [];
  private readonly liveAt = new Map<Task, number>();
  /** Fibers inside one of the scenario's own waits (any other wait holds them for the runtime). */
  private readonly inWait = new Set<Task>();
  readonly locks: Crst[];
  readonly tick: AutoEvent;

  spawned = 0;
  ended = 0;
  readonly tally: Tally;
  #suspended = false;
  /**
   * The runtime is suspended (by the collector or by hand). A worker's share asks the shared core:
   * the main thread suspends it.
   */
  get suspended(): boolean {
    return this.share === undefined ? this.#suspended : this.host.door.isSuspended();
  }
  set suspended(on: boolean) {
    this.#suspended = on;
  }
  /** Suspended by hand (the page): the collector neither suspends nor resumes meanwhile. */
  userHold = false;
  /** stop() was called. */
  stopped = false;
  private startedAt = 0;
  private wallStart = 0;
  private wallMs = 0;

  static async create(options: ScenarioOptions = {}): Promise<Scenario> {
    const clock = options.clock ?? "virtual";
    const host = await createHost({ clock });
    const guest = await createGuest(host, options.guest);
    return new Scenario(host, guest, options, clock);
  }

  /**
   * A scenario on a host made elsewhere (a worker's host of a shared runtime): its clock is the
   * host's, real. With `options.share`, this worker's share of the run.
   */
  static onHost(host: Host, guest: DemoGuest, options: ScenarioOptions = {}): Scenario {
    return new Scenario(host, guest, options, "real");
  }

  private constructor(host: Host, guest: DemoGuest, o: ScenarioOptions, clock: "virtual" | "real") {
    this.host = host;
    this.guest = guest;
    this.clock = clock;
    this.seed = o.seed ?? 1;
    this.total = o.fibers ?? 10_000;
    this.durationMs = o.durationMs ?? 2000;
    this.continuous = o.continuous === true;
    this.pace = o.pace ?? 1;
    this.share = o.share;
    this.tally = new Tally(this.continuous);
    this.locks = Array.from({ length: LOCKS }, () => host.createCrst());
    this.tick = host.createAutoEvent();
    if (o.traceCapacity) host.trace.start(o.traceCapacity);
  }

  /**
   * Starts the spawner, the collector (not in a worker's share), the supervisor and the ticker;
   * host.run() runs them. Answers their tasks.
   */
  start(): Task[] {
    this.startedAt = this.host.now();
    this.wallStart = performance.now();
    const s = this;
    const tasks: Task[] = [];
    tasks.push(
      this.host.spawn(
        function* (f) {
          yield* spawner(s, f);
        },
        { name: "spawner" },
      ),
    );
    if (this.share === undefined)
      tasks.push(
        this.host.spawn(
          function* (f) {
            yield* collector(s, f);
          },
          { name: "collector", priority: THREAD_PRIORITY_HIGHEST },
        ),
      );
    tasks.push(
      this.host.spawn(
        function* (f) {
          yield* supervisor(s, f);
        },
        { name: "supervisor" },
      ),
      this.host.spawn(
        function* (f) {
          yield* ticker(s, f);
        },
        { name: "ticker" },
      ),
    );
    return tasks;
  }

  /** Runs the whole scenario and answers its summary. */
  async run(): Promise<DemoSummary> {
    this.start();
    await this.host.run();
    return this.summary();
  }

  /** The workload is over: every fiber spawned and ended (never, in a continuous run), or stopped. */
  get over(): boolean {
    return this.stopped || (!this.continuous && this.spawned >= this.total && this.ended === this.spawned);
  }

  /** Ends the background fibers at their next wake-up (the page's teardown). */
  stop(): void {
    this.stopped = true;
  }

  /** Spawns one workload fiber of a kind drawn from its own seeded stream. */
  spawnOne(): Task {
    // A worker's share takes every `of`-th fiber of the whole run: a fiber's number, and so its
    // seed and kind, are the same whatever the number of workers.
    const n = this.share === undefined ? this.spawned : this.share.index + this.spawned * this.share.of;
    const rng = random(fiberSeed(this.seed, n));
    const kind = drawKind(rng);
    const t = this.host.spawn(this.body(kind), { name: `${kind}-${n}`, param: rng });
    this.spawned++;
    this.tally.spawnedByKind[kind]++;
    return t;
  }

  // --- the fibers ----------------------------------------------------------------------------------

  private body(kind: FiberKind): (f: FiberContext, rng: Random) => Generator<unknown, void, unknown> {
    const s = this;
    const work = BODIES[kind];
    return function* (f, rng) {
      s.begin(f.task);
      try {
        yield* work(s, f, rng);
        s.tally.ended("finished");
      } catch (err) {
        // The supervisor's aborts are the expected way to end early (the tally tells them apart).
        s.tally.ended({ error: err });
      } finally {
        if (s.share !== undefined) s.tally.counted(f.task.counters());
        s.end(f.task);
      }
    };
  }

  /** A wait of a workload fiber: marked (so the lanes tell it from being held) and counted by its answer. */
  *wait(t: Task, op: Op<number>): Generator<unknown, number, unknown> {
    this.inWait.add(t);
    let hr: number;
    try {
      hr = yield* op;
    } finally {
      this.inWait.delete(t);
    }
    this.tally.waited(hr);
    return hr;
  }

  /** A workload duration, at the run's pace. */
  ms(base: number): number {
    return Math.max(1, Math.round(base * this.pace));
  }

  private begin(t: Task): void {
    this.liveAt.set(t, this.live.length);
    this.live.push(t);
  }

  private end(t: Task): void {
    const i = this.liveAt.get(t);
    if (i !== undefined) {
      const last = this.live.pop()!;
      if (last !== t) {
        this.live[i] = last;
        this.liveAt.set(last, i);
      }
      this.liveAt.delete(t);
    }
    this.ended++;
  }

  // --- what the page does by hand ----------------------------------------------------------------

  /** Suspends the runtime until resume(): the collector leaves it alone meanwhile. */
  suspend(): number {
    this.userHold = true;
    const hr = this.host.suspendRuntime();
    if (hr === S_OK || this.suspended) {
      this.suspended = true;
      if (hr === S_OK) this.tally.suspensions++;
    }
    return hr;
  }

  resume(): number {
    this.userHold = false;
    const hr = this.host.resumeRuntime();
    this.suspended = false;
    return hr;
  }

  /**
   * A catastrophic failure: the next call into the core traps (E_FAIL), and the runtime is
   * disabled for good. Answers the trapped call's HRESULT and the next one's. The scenario's sync
   * objects are closed, so that their waiters are released (HOST_E_ABANDONED) and unwind.
   */
  fail(): { trapped: number; after: number } {
    this.host.injectCoreFault();
    const trapped = this.host.suspendRuntime();
    const after = this.host.resumeRuntime();
    this.suspended = false;
    for (const lock of this.locks) lock.close();
    this.tick.close();
    return { trapped, after };
  }

  /** What a lane shows for a fiber now. */
  status(t: Task): FiberStatus {
    const state = t.getState();
    if (state === "done") return "done";
    if (state === "waiting") return this.inWait.has(t) || this.guest.blocked.has(t) ? "waiting" : "held";
    return t.mode;
  }

  /** Workload fibers held by a suspension now (switched out in managed code, or waiting to enter it). */
  countHeld(): number {
    let n = 0;
    for (const t of this.live) if (t.getState() === "waiting" && !this.inWait.has(t) && !this.guest.blocked.has(t)) n++;
    return n;
  }

  // --- the summary ---------------------------------------------------------------------------------

  summary(): DemoSummary {
    if (this.wallMs === 0 || !this.over) this.wallMs = performance.now() - this.wallStart;
    return this.tally.summary(this.host, this.guest, {
      seed: this.seed,
      clock: this.clock,
      scenarioMs: this.host.now() - this.startedAt,
      wallMs: this.wallMs,
      spawned: this.spawned,
    });
  }
}
