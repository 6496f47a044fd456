// The common case of a shared runtime: createHost({ threads, entry }) starts the workers, joins
// each to the runtime and gives back this thread's host, whose spawnOn(worker | "any", "body",
// param) runs a body of the entry module on a worker. A worker that dies has its tasks ended
// (reapThread) and its pending spawns rejected; the others go on.

import { E_INVALIDARG, HOST_E_ABANDONED, HResultError } from "../base/hresult.js";
import { describeValue } from "../base/describe.js";
import { createHost as createPlainHost, type Host, type HostOptions } from "../host/host.js";
import type { CoreDoor } from "../core/door.js";
import type { HostSettings } from "../host/options.js";
import { makeSharedCore } from "./create.js";
import { ThreadHost, type SharedCoreHandle } from "./thread-host.js";
import type { SlotHandle } from "./coord.js";
import { MAX_THREADS } from "./coord.js";
import { startWorker, type WorkerPort } from "./worker-start.js";
import type { FromWorker, PoolStart, ToWorker, WireError } from "./pool-worker.js";

export interface PoolOptions extends HostOptions {
  /** Workers to start: a count (1 … 31), or "auto" (the machine's cores − 1, at least 1). */
  threads?: number | "auto";
  /** The module whose exported generator functions the workers run by name (spawnOn). */
  entry?: URL | string;
}

/** A body running on a worker: its handle once started, its result once ended. */
export interface PoolTask<R = unknown> {
  /** The worker's thread index. */
  readonly thread: number;
  /** The task's handle (host.remoteTask(handle) joins or aborts it), once the worker started it. */
  readonly handle: Promise<SlotHandle>;
  /** The body's value (structured-cloned), or its error (an Error with the thrower's name and message). */
  readonly result: Promise<R>;
}

interface Pending {
  started: (h: SlotHandle) => void;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  thread: number;
}

interface Lane {
  port: WorkerPort;
  thread: number;
  outstanding: number;
  dead: boolean;
}

/**
 * Creates a host with its own core instance (the core is compiled once per process and cached);
 * with `threads`, a pool: that many workers on one shared runtime, running the bodies of `entry`.
 */
export function createHost(options: PoolOptions & { threads: number | "auto" }): Promise<PoolHost>;
export function createHost(options?: HostOptions): Promise<Host>;
export function createHost(options?: PoolOptions): Promise<Host | PoolHost> {
  let threaded = false;
  try {
    threaded = typeof options === "object" && options !== null && "threads" in options;
  } catch {
    // (A revoked Proxy: createHost's own reading of the options answers it.)
  }
  return threaded ? createPool(options as PoolOptions) : createPlainHost(options as HostOptions);
}

/** The machine's cores as the engine tells them: Node 20 has no `navigator` (os.availableParallelism()). */
export function coresAvailable(): number {
  const g = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    process?: { getBuiltinModule?(id: string): { availableParallelism?(): number } | undefined };
  };
  const n = g.navigator?.hardwareConcurrency ?? g.process?.getBuiltinModule?.("node:os")?.availableParallelism?.();
  return typeof n === "number" && n > 0 ? n : 1;
}

async function createPool(options: PoolOptions): Promise<PoolHost> {
  let threads: PoolOptions["threads"];
  let entry: PoolOptions["entry"];
  let rest: HostOptions;
  try {
    ({ threads, entry, ...rest } = options);
  } catch {
    throw new HResultError(E_INVALIDARG, "createHost: reading the options object threw");
  }
  const n = threads === "auto" ? Math.max(1, coresAvailable() - 1) : threads;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) >= MAX_THREADS)
    throw new HResultError(
      E_INVALIDARG,
      `createHost: threads must be an integer in 1 … ${MAX_THREADS - 1} or "auto", not ${describeValue(threads)}`,
    );
  let href: string;
  try {
    href = new URL(String(entry)).href;
  } catch {
    throw new HResultError(
      E_INVALIDARG,
      `createHost: entry must be the URL of the module of the workers' bodies (new URL("./fibers.js", import.meta.url)), not ${describeValue(entry)}`,
    );
  }
  const host = await makeSharedCore(rest, (door, settings, handle) => new PoolHost(door, settings, handle));
  await host.startLanes(n as number, href, rest);
  return host;
}

/** A ThreadHost with workers of its own (createHost({ threads, entry })). */
export class PoolHost extends ThreadHost {
  #lanes: Lane[] = [];
  #pending = new Map<number, Pending>();
  #nextId = 1;

  /** @internal use createHost({ threads, entry }) */
  constructor(door: CoreDoor, settings: HostSettings, handle: SharedCoreHandle) {
    super(door, settings, handle);
  }

  /** The workers' thread indexes, in start order. */
  get workers(): number[] {
    return this.#lanes.filter((l) => !l.dead).map((l) => l.thread);
  }

  /** @internal */
  async startLanes(n: number, entry: string, options: HostOptions): Promise<void> {
    const plain = Object.fromEntries(Object.entries(options).filter(([, v]) => typeof v !== "function"));
    const ready: Promise<void>[] = [];
    for (let i = 0; i < n; i++) ready.push(this.#startLane(entry, plain));
    const results = await Promise.allSettled(ready);
    const failure = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failure !== undefined) {
      await this.close();
      throw failure.reason;
    }
  }

  #startLane(entry: string, options: HostOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      const data: PoolStart = { "fiberhost:pool": this.handle, options };
      const port = startWorker({ module: entry, data });
      const lane: Lane = { port, thread: -1, outstanding: 0, dead: false };
      port.onMessage((m) => {
        const msg = m as FromWorker;
        if (msg.type === "ready") {
          lane.thread = msg.thread;
          this.#lanes.push(lane);
          resolve();
        } else if (msg.type === "failed") reject(fromWire(msg.error, "a pool worker could not start"));
        else this.#answer(lane, msg);
      });
      port.onExit((exit) => {
        const why = exit.error !== undefined ? String(exit.error) : `exit code ${exit.code}`;
        if (lane.thread < 0)
          reject(new HResultError(HOST_E_ABANDONED, `a pool worker ended before it was ready: ${why}`));
        else this.#died(lane, why);
      });
    });
  }

  #answer(lane: Lane, msg: FromWorker): void {
    if (msg.type === "ready" || msg.type === "failed") return;
    const p = this.#pending.get(msg.id);
    if (p === undefined) return;
    if (msg.type === "started") {
      p.started({ thread: lane.thread, idx: msg.idx, gen: msg.gen });
      return;
    }
    this.#pending.delete(msg.id);
    lane.outstanding--;
    if (msg.type === "done") p.resolve(msg.value);
    else p.reject(fromWire(msg.error, "a body on a worker failed"));
  }

  #died(lane: Lane, why: unknown): void {
    if (lane.dead) return;
    lane.dead = true;
    this.reapThread(lane.thread);
    for (const [id, p] of this.#pending) {
      if (p.thread !== lane.thread) continue;
      this.#pending.delete(id);
      p.reject(
        new HResultError(HOST_E_ABANDONED, `worker thread ${lane.thread} ended (${String(why)}) before its body did`),
      );
    }
  }

  /**
   * Runs the entry module's export `body` on a worker (a thread index, or "any": the worker with
   * the fewest bodies running), as a fiber spawned there with `param` (structured-cloned).
   */
  spawnOn<R = unknown>(worker: number | "any", body: string, param?: unknown): PoolTask<R> {
    if (typeof body !== "string" || body === "")
      throw new HResultError(
        E_INVALIDARG,
        `spawnOn: body must be the name of an export of the entry module, not ${describeValue(body)}`,
      );
    const live = this.#lanes.filter((l) => !l.dead);
    const lane =
      worker === "any"
        ? live.reduce<Lane | undefined>((a, b) => (a === undefined || b.outstanding < a.outstanding ? b : a), undefined)
        : live.find((l) => l.thread === worker);
    if (lane === undefined)
      throw new HResultError(
        E_INVALIDARG,
        `spawnOn: ${describeValue(worker)} is not a live worker of this pool (${JSON.stringify(this.workers)})`,
      );
    const id = this.#nextId++;
    let started!: (h: SlotHandle) => void;
    const handle = new Promise<SlotHandle>((r) => (started = r));
    const result = new Promise<R>((resolve, reject) => {
      this.#pending.set(id, { started, resolve: resolve as (v: unknown) => void, reject, thread: lane.thread });
    });
    lane.outstanding++;
    try {
      lane.port.postMessage({ type: "spawn", id, body, param } satisfies ToWorker);
    } catch (err) {
      this.#pending.delete(id);
      lane.outstanding--;
      throw new HResultError(E_INVALIDARG, `spawnOn: the param could not be posted to a worker (${String(err)})`);
    }
    void handle.catch(() => {});
    return { thread: lane.thread, handle, result };
  }

  /** Ends the workers (their tasks end, their pending bodies reject). */
  async close(): Promise<void> {
    for (const lane of this.#lanes) {
      if (lane.dead) continue;
      await lane.port.terminate();
      this.#died(lane, "the pool was closed");
    }
  }
}

function fromWire(e: WireError, what: string): Error {
  const err = e.hr !== undefined ? new HResultError(e.hr, e.message) : new Error(e.message);
  if (e.hr !== undefined) err.message = e.message;
  err.name = e.name;
  if (e.stack !== undefined) err.stack = e.stack;
  (err as { cause?: unknown }).cause = what;
  return err;
}
