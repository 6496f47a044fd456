// A pool worker's side (the bootstrap, worker-main.ts, hands it the first message): join the
// runtime, load the entry module, and spawn its bodies by name when the pool asks; each fiber's
// start and end is told back to the pool (params and results are structured-cloned).

import { joinHost, type SharedCoreHandle, type ThreadHost } from "./thread-host.js";
import type { FiberStart } from "../fiber/context.js";
import type { HostOptions } from "../host/host.js";

/** The pool's messages to a worker. */
export type ToWorker =
  | { type: "init"; handle: SharedCoreHandle; entry: string; options: HostOptions }
  | { type: "spawn"; id: number; body: string; param: unknown; name: string | undefined }
  | { type: "close" };

/** A worker's messages to the pool. */
export type FromWorker =
  | { type: "ready"; thread: number; bodies: string[] }
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

export interface WorkerSide {
  post(message: FromWorker): void;
}

/** The worker's state once its first message came: its host and the entry module's bodies. */
export class PoolWorker {
  private constructor(
    private readonly host: ThreadHost,
    private readonly bodies: Record<string, unknown>,
    private readonly side: WorkerSide,
  ) {}

  /** Joins the runtime and loads the entry module; tells the pool it is ready (or why it failed). */
  static async start(init: ToWorker & { type: "init" }, side: WorkerSide): Promise<PoolWorker | null> {
    try {
      const entry = (await import(/* @vite-ignore */ init.entry)) as Record<string, unknown>;
      const host = await joinHost(init.handle, init.options);
      const bodies = Object.keys(entry).filter((k) => typeof entry[k] === "function");
      side.post({ type: "ready", thread: host.thread, bodies });
      return new PoolWorker(host, entry, side);
    } catch (err) {
      side.post({ type: "failed", error: toWire(err) });
      return null;
    }
  }

  /** A message from the pool. */
  handle(msg: ToWorker): void {
    if (msg.type !== "spawn") return;
    const body = this.bodies[msg.body];
    let t: ReturnType<ThreadHost["spawn"]>;
    try {
      if (typeof body !== "function") throw new Error(`the entry module exports no function ${JSON.stringify(msg.body)}`);
      t = this.host.spawn(body as FiberStart, { param: msg.param, name: msg.name ?? msg.body });
    } catch (err) {
      this.side.post({ type: "threw", id: msg.id, error: toWire(err) });
      return;
    }
    const h = this.host.handleOf(t);
    this.side.post({ type: "started", id: msg.id, idx: h.idx, gen: h.gen });
    t.result.then(
      (value) => {
        try {
          this.side.post({ type: "done", id: msg.id, value });
        } catch (err) {
          this.side.post({ type: "threw", id: msg.id, error: toWire(err) }); // a value structured clone refuses
        }
      },
      (err: unknown) => this.side.post({ type: "threw", id: msg.id, error: toWire(err) }),
    );
  }
}
