// The example guest (examples/guest/guest.ts) as the interop tests use it: its imports, with a
// log of what they saw, and a controllable suspending import.
import { guestBytes, SUSPENDING } from "../../src/demo/generated/guest-wasm.js";
import type { Guest, Host, InstantiateOptions, Frame } from "../../src/index.js";

export { SUSPENDING };

export const hasJspi = typeof (WebAssembly as { Suspending?: unknown }).Suspending === "function";

export interface GuestExports {
  add(a: number, b: number): number;
  noop(): void;
  callAdd(a: number, b: number): number;
  addLoop(n: number): number;
  compute(x: number): number;
  fetchOnce(x: number): number;
  sumMaybeFetch(n: number, fetch: number): number;
  nested(n: number): number;
  nestedFetch(n: number): number;
  deepFetch(n: number): number;
  callFail(code: number): number;
  trap(): void;
  noteAndFetch(x: number): number;
  memory: WebAssembly.Memory;
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export function deferred<T = number>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** What the guest's imports saw. */
export interface GuestLog {
  /** The current task's frames at each call of host_callback and host_add. */
  frames: Frame[][];
  notes: number[];
  fetches: number[];
}

export interface LoadedGuest {
  guest: Guest<GuestExports>;
  log: GuestLog;
  /** What host_fetch answers: by default x * 2, synchronously. */
  setFetch(fetch: (x: number) => unknown): void;
  /** Which export host_callback calls back (default nested). */
  setCallback(name: "nested" | "nestedFetch"): void;
}

/**
 * Instantiates the example guest. `kind`: 'asyncify' (built with the pass) or 'plain'. The
 * imports log the current task's frames (read through `current()`).
 */
export async function loadGuest(
  host: Host,
  kind: "asyncify" | "plain",
  options: InstantiateOptions = {},
  current: () => { frames(): Frame[] } = () => currentTask(host),
  /** What to instantiate (default: the guest's bytes of that kind; a compiled Module of them). */
  source: BufferSource | WebAssembly.Module = guestBytes(kind),
): Promise<LoadedGuest> {
  const log: GuestLog = { frames: [], notes: [], fetches: [] };
  let fetch: (x: number) => unknown = (x) => x * 2;
  let guest!: Guest<GuestExports>;
  let callback: "nested" | "nestedFetch" = "nested";
  const imports = {
    env: {
      host_add: (a: number, b: number) => {
        log.frames.push(current().frames());
        return a + b;
      },
      host_fetch: (x: number) => {
        log.fetches.push(x);
        return fetch(x);
      },
      host_callback: (n: number) => {
        log.frames.push(current().frames());
        return guest.exports[callback](n - 1);
      },
      host_fail: (code: number) => {
        throw new Error(`host_fail(${code})`);
      },
      host_note: (x: number) => {
        log.notes.push(x);
      },
    },
  };
  guest = await host.instantiate<GuestExports>(source, imports, { suspending: SUSPENDING, ...options });
  return { guest, log, setFetch: (f) => (fetch = f), setCallback: (name) => (callback = name) };
}

/** The task the door has switched in: the running fiber's, or the root task. */
export function currentTask(host: Host): { frames(): Frame[] } {
  const out: { value?: { frames(): Frame[] } } = {};
  host.taskManager.getCurrentTask(out as never);
  return out.value!;
}

/** A frame as the tests write it: R (reverse enter) or L(target). */
export function frameNames(frames: Frame[]): string[] {
  return frames.map((f) => (f.kind === "reverseEnter" ? "R" : `L${f.target.toString(16)}`));
}

/** Lets every pending macrotask (the scheduler's slices) and microtask run. */
export function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

/** Waits (macrotask by macrotask) until `cond` holds; fails after 500 turns. */
export async function until(cond: () => boolean, what = "the condition"): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`timed out waiting for ${what}`);
}
