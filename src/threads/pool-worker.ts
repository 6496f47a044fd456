// A pool worker's side (worker-main.ts calls it with the entry module it imported): join the
// runtime and spawn the entry module's bodies by name when the pool asks; each fiber's start and
// end is told back to the pool (params and results are structured-cloned).

import { joinHost } from "./create.js";
import type { SharedCoreHandle, ThreadHost } from "./thread-host.js";
import type { FiberStart } from "../fiber/context.js";
import type { HostOptions } from "../host/host.js";

/** The worker's side of its port to the pool (worker-main.ts's ParentPort). */
export interface ParentPort {
  postMessage(value: unknown): void;
  onMessage(fn: (value: unknown) => void): void;
}

/** What the pool hands its workers at their start (startWorker's data). */
export interface PoolStart {
  "fiberhost:pool": SharedCoreHandle;
  options: HostOptions;
}

/** The pool's messages to a worker. */
export type ToWorker = { type: "spawn"; id: number; body: string; param: unknown };

/** A worker's messages to the pool. */
export type FromWorker =
  | { type: "ready"; thread: number }
  | { type: "failed"; error: WireError }
  | { type: "started"; id: number; idx: number; gen: number }
  | { type: "done"; id: number; value: unknown }
  | { type: "threw"; id: number; error: WireError };

/** An error as it crosses a thread: structured clone keeps an Error's name and message, not its class. */
export interface WireError {
  name: string;
  message: string;
  stack: string | undefined;
  hr: number | undefined;
}

export function toWire(err: unknown): WireError {
  if (err instanceof Error) {
    const hr = (err as { hr?: unknown }).hr;
    return { name: err.name, message: err.message, stack: err.stack, hr: typeof hr === "number" ? hr : undefined };
  }
  return { name: "Error", message: String(err), stack: undefined, hr: undefined };
}

export function isPoolStart(data: unknown): data is PoolStart {
  return typeof data === "object" && data !== null && "fiberhost:pool" in data;
}

/** The host this worker joined as a pool's worker (null elsewhere): the entry module's bodies may use it. */
let joined: ThreadHost | null = null;
export function poolWorkerHost(): ThreadHost | null {
  return joined;
}

/** Joins the runtime, tells the pool, and serves its spawns until the worker ends. */
export async function runPoolWorker(entry: Record<string, unknown>, start: PoolStart, port: ParentPort): Promise<void> {
  const post = (m: FromWorker): void => port.postMessage(m);
  let host: ThreadHost;
  try {
    host = await joinHost(start["fiberhost:pool"], start.options);
  } catch (err) {
    post({ type: "failed", error: toWire(err) });
    return;
  }
  joined = host;
  port.onMessage((m) => {
    const msg = m as ToWorker;
    if (msg.type === "spawn") spawnBody(host, entry, msg, post);
  });
  post({ type: "ready", thread: host.thread });
}

function spawnBody(
  host: ThreadHost,
  entry: Record<string, unknown>,
  msg: ToWorker & { type: "spawn" },
  post: (m: FromWorker) => void,
): void {
  const body = entry[msg.body];
  let t: ReturnType<ThreadHost["spawn"]>;
  try {
    if (typeof body !== "function")
      throw new TypeError(`the entry module exports no function ${JSON.stringify(msg.body)}`);
    t = host.spawn(body as FiberStart, { param: msg.param, name: msg.body });
  } catch (err) {
    post({ type: "threw", id: msg.id, error: toWire(err) });
    return;
  }
  const h = host.handleOf(t);
  post({ type: "started", id: msg.id, idx: h.idx, gen: h.gen });
  t.result.then(
    (value) => {
      try {
        post({ type: "done", id: msg.id, value });
      } catch (err) {
        post({ type: "threw", id: msg.id, error: toWire(err) }); // a value structured clone refuses
      }
    },
    (err: unknown) => post({ type: "threw", id: msg.id, error: toWire(err) }),
  );
}
