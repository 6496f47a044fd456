// The bootstrap module every fiberhost worker runs (startWorker in worker-start.ts starts it), the same
// file in Node (worker_threads) and in browsers (a module Web Worker). Its first message names a module
// by URL; it imports that module and hands it to `run` below: a pool's worker (pool-worker.ts) joins
// the runtime and runs the module's bodies by name; any other module's `main(data, port)` is called.
// In a Vite-built page it is a bundle entry of its own, with the library's threads layer in it.
//
// What it makes uniform for the parent (WorkerPort.onExit): an uncaught error or unhandled rejection
// ends the worker with that error (Node does so itself; a browser worker would log it and go on, so
// here it is posted to the parent, which terminates the worker), and `close()` in a browser worker is
// reported (a browser tells its parent nothing when a worker closes itself).

/**
 * The key of the messages this bootstrap and startWorker exchange themselves; any other message is
 * the user's. (worker-start.ts imports only types from here: importing this module runs it.)
 */
export type Control = "fiberhost:worker";
import { isPoolStart, runPoolWorker } from "./pool-worker.js";
const CONTROL: Control = "fiberhost:worker";

/** The first message startWorker posts: the module to import, and what to hand it. */
export interface StartMessage {
  "fiberhost:worker": "start";
  module: string;
  data: unknown;
}

/** What the worker's module gets to talk to its parent: the worker's side of a WorkerPort. */
export interface ParentPort {
  postMessage(value: unknown, transfer?: Transferable[]): void;
  /** Messages from the parent; those that arrived before the first listener are delivered to it. */
  onMessage(fn: (value: unknown) => void): void;
}

/**
 * What the worker does once its module is imported: a pool's worker runs the module's bodies
 * (pool-worker.ts); otherwise the module's export `main(data, port)` is called when there is one (a
 * module may also just run at its top level). Whatever it throws or rejects with ends the worker
 * with that error.
 */
async function run(module: Record<string, unknown>, data: unknown, port: ParentPort): Promise<void> {
  if (isPoolStart(data)) return runPoolWorker(module, data, port);
  if (typeof module.main === "function") await module.main(data, port);
}

interface RawPort {
  postMessage(value: unknown, transfer?: Transferable[]): void;
}

// Node: the worker's parentPort (process.getBuiltinModule rather than an import, so a browser bundle
// has nothing Node-only to resolve). A browser: the worker's global scope.
const nodeThreads = (
  globalThis as { process?: { getBuiltinModule?(id: string): { parentPort: NodeParentPort | null } } }
).process?.getBuiltinModule?.("node:worker_threads");
const nodePort = nodeThreads?.parentPort ?? undefined;
interface NodeParentPort extends RawPort {
  on(event: "message", fn: (value: unknown) => void): void;
}
const scope = globalThis as unknown as WorkerScope;
interface WorkerScope extends RawPort {
  addEventListener(type: string, fn: (event: Event & { error?: unknown; reason?: unknown }) => void): void;
  close(): void;
}
const raw: RawPort = nodePort ?? scope;

const early: unknown[] = [];
let listener: ((value: unknown) => void) | null = null;
let started = false;

const port: ParentPort = {
  postMessage: (value, transfer) => raw.postMessage(value, transfer),
  onMessage(fn) {
    listener = fn;
    for (const value of early.splice(0)) fn(value);
  },
};

/**
 * Where a module finds its start without an export: a bundler may drop a worker entry's exports (Vite's
 * `?worker&url` does), leaving only what its top level does. A global, not an export of this file: a
 * bundled module has its own copy of whatever it imports (worker-start.ts's workerParent reads it).
 */
export type ParentKey = "fiberhost:worker-parent";
const PARENT_KEY: ParentKey = "fiberhost:worker-parent";

function receive(value: unknown): void {
  if (!started && isStart(value)) {
    started = true;
    (globalThis as Record<string, unknown>)[PARENT_KEY] = { data: value.data, port };
    // A failure to import or to run is thrown from a task of its own: an uncaught error, reported as below.
    import(/* @vite-ignore */ value.module)
      .then((module: Record<string, unknown>) => run(module, value.data, port))
      .catch((error: unknown) =>
        setTimeout(() => {
          throw error;
        }),
      );
  } else if (listener) listener(value);
  else early.push(value);
}

function isStart(value: unknown): value is StartMessage {
  return typeof value === "object" && value !== null && (value as StartMessage)[CONTROL] === "start";
}

// (Node's main thread, where nothing should import this file, has no parentPort: nothing is set up.)
if (nodePort) {
  nodePort.on("message", receive);
} else if (nodeThreads === undefined) {
  scope.addEventListener("message", (event) => receive((event as MessageEvent).data));
  // Node ends a worker at an uncaught error (and, by default, at an unhandled rejection); a browser
  // worker would go on after logging it. Post it instead (preventDefault: not also as an ErrorEvent,
  // whose message is all that would reach the parent), and the parent terminates the worker.
  const fail = (event: Event & { error?: unknown; reason?: unknown }, error: unknown) => {
    event.preventDefault();
    scope.postMessage({ [CONTROL]: "error", error: cloneable(error) });
  };
  scope.addEventListener("error", (event) => fail(event, event.error ?? (event as ErrorEvent).message));
  scope.addEventListener("unhandledrejection", (event) => fail(event, event.reason));
  const close = scope.close.bind(scope);
  scope.close = () => {
    scope.postMessage({ [CONTROL]: "exit", code: 0 });
    close();
  };
}

/** The error itself when structured clone takes it (Errors clone with their message and stack), else its text. */
function cloneable(error: unknown): unknown {
  try {
    structuredClone(error);
    return error;
  } catch {
    return String(error);
  }
}
