// Starts a worker running fiberhost's bootstrap (worker-main.ts) in Node (worker_threads, ESM) or in a
// browser (a module Web Worker), and answers one small interface over either: WorkerPort.
//
// The bootstrap's URL is written once, literally, as `new Worker(new URL("./worker-main.js",
// import.meta.url), { type: "module" })`: the only form Vite rewrites (dev: to the .ts source it
// serves; build: to a worker chunk of its own), and from dist/ the file next to this one, which Node
// loads as is. The Node path never runs that line (Node 20 has no global Worker): it names the same
// file with worker_threads's Worker, in a form Vite leaves alone.

import { E_INVALIDARG, E_NOTIMPL, HResultError } from "../base/hresult.js";
import type { Control, ParentKey, ParentPort, StartMessage } from "./worker-main.js";

export type { ParentPort };

// Types only from worker-main.ts: importing it would run the bootstrap here.
const CONTROL: Control = "fiberhost:worker";
const PARENT_KEY: ParentKey = "fiberhost:worker-parent";

/**
 * Inside a worker that startWorker started, once its module is being imported: the start's data and
 * the port to the parent; undefined anywhere else. For a module whose exports a bundler dropped (Vite's
 * `?worker&url`): its top level asks here instead of exporting `main`.
 */
export function workerParent(): { data: unknown; port: ParentPort } | undefined {
  return (globalThis as Record<string, unknown>)[PARENT_KEY] as { data: unknown; port: ParentPort } | undefined;
}

export interface WorkerStartOptions {
  /** The module the worker imports (a URL: file: in Node, http(s): or a Vite-served path in a browser). */
  module: URL | string;
  /** Handed to the module with its start (structured-cloned; see `transfer`). */
  data?: unknown;
  /** Objects of `data` moved rather than copied (ArrayBuffers, MessagePorts). */
  transfer?: Transferable[];
}

/** How a worker ended: `error` when it failed (an uncaught error or rejection, or it could not load). */
export interface WorkerExit {
  /** The exit code: Node's (process.exit(n), 1 after an error or terminate()); 0 or 1 likewise in a browser. */
  code: number;
  error?: unknown;
}

/** The parent's side of a worker, the same in Node and in browsers. */
export interface WorkerPort {
  postMessage(value: unknown, transfer?: Transferable[]): void;
  /** Calls `fn` with each message the worker's module posts; answers a function that stops it. */
  onMessage(fn: (value: unknown) => void): () => void;
  /** Calls `fn` once when the worker ends, however it ends (at once if it has ended already). */
  onExit(fn: (exit: WorkerExit) => void): () => void;
  /** Ends the worker (onExit reports code 1); resolves once it has ended. */
  terminate(): Promise<void>;
  /** Node: the worker keeps the process alive (the default). A browser: nothing. */
  ref(): void;
  /** Node: the worker no longer keeps the process alive by itself. A browser: nothing. */
  unref(): void;
}

interface NodeWorker {
  on(event: "message", fn: (value: unknown) => void): void;
  on(event: "error", fn: (error: unknown) => void): void;
  on(event: "exit", fn: (code: number) => void): void;
  postMessage(value: unknown, transfer?: readonly unknown[]): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}
type NodeWorkerClass = new (url: URL) => NodeWorker;

/** Node's worker_threads, without an import a browser bundle would have to resolve. */
function nodeThreads(): { Worker: NodeWorkerClass } | undefined {
  const process = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?(id: string): unknown } })
    .process;
  if (process?.versions?.node === undefined) return undefined;
  if (typeof process.getBuiltinModule !== "function")
    throw new HResultError(
      E_NOTIMPL,
      `startWorker needs Node 20.16 or later (process.getBuiltinModule); this is Node ${process.versions.node}`,
    );
  return process.getBuiltinModule("node:worker_threads") as { Worker: NodeWorkerClass };
}

/** Starts a worker running `options.module` under fiberhost's bootstrap. */
export function startWorker(options: WorkerStartOptions): WorkerPort {
  if (typeof options !== "object" || options === null)
    throw new HResultError(E_INVALIDARG, "startWorker: options must be an object with a module URL");
  const module = options.module instanceof URL ? options.module.href : options.module;
  if (typeof module !== "string" || module === "")
    throw new HResultError(
      E_INVALIDARG,
      `startWorker: options.module must be a URL or a URL string, not ${String(module)}`,
    );
  const start: StartMessage = { [CONTROL]: "start", module, data: options.data };
  const threads = nodeThreads();
  const port = threads ? nodePort(threads.Worker) : browserPort();
  port.postMessage(start, options.transfer);
  return port;
}

/** The bookkeeping both kinds share: listeners, and one exit report. */
function ends() {
  const messages = new Set<(value: unknown) => void>();
  const exits = new Set<(exit: WorkerExit) => void>();
  let ended: WorkerExit | null = null;
  return {
    message(value: unknown) {
      for (const fn of messages) fn(value);
    },
    /** The first end wins (a browser's error, then its terminate, is one end). */
    exit(exit: WorkerExit) {
      if (ended) return;
      ended = exit;
      for (const fn of [...exits]) fn(exit);
      exits.clear();
    },
    onMessage(fn: (value: unknown) => void) {
      messages.add(fn);
      return () => void messages.delete(fn);
    },
    onExit(fn: (exit: WorkerExit) => void) {
      if (ended) {
        const exit = ended;
        queueMicrotask(() => fn(exit));
        return () => {};
      }
      exits.add(fn);
      return () => void exits.delete(fn);
    },
  };
}

function nodePort(NodeWorker: NodeWorkerClass): WorkerPort {
  // Run from its TypeScript source (vitest's Node project, tsx): the bootstrap beside it is a .ts file,
  // which a worker_threads worker cannot load. Say so, rather than a bare ERR_MODULE_NOT_FOUND later.
  if (import.meta.url.endsWith(".ts"))
    throw new HResultError(
      E_NOTIMPL,
      "startWorker in Node runs the built library (dist/), not its TypeScript sources: a worker_threads worker cannot load .ts files",
    );
  // Not the literal form (a worker_threads Worker takes no type): Vite leaves this line alone.
  const worker = new NodeWorker(new URL(/* @vite-ignore */ "./worker-main.js", import.meta.url));
  const state = ends();
  let error: unknown;
  let hasError = false;
  worker.on("message", (value) => state.message(value));
  // Node sends "error" (an uncaught error, a module that failed to load) and then "exit" (code 1).
  worker.on("error", (e) => {
    error = e;
    hasError = true;
  });
  worker.on("exit", (code) => state.exit(hasError ? { code, error } : { code }));
  return {
    postMessage: (value, transfer) => worker.postMessage(value, transfer),
    onMessage: state.onMessage,
    onExit: state.onExit,
    async terminate() {
      await worker.terminate();
    },
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
}

function browserPort(): WorkerPort {
  // Written literally for Vite (see the top of this file).
  const worker = new Worker(new URL("./worker-main.js", import.meta.url), { type: "module" });
  const state = ends();
  const end = (exit: WorkerExit) => {
    worker.terminate();
    state.exit(exit);
  };
  worker.addEventListener("message", (event) => {
    const value: unknown = event.data;
    const control =
      typeof value === "object" && value !== null ? (value as Record<string, unknown>)[CONTROL] : undefined;
    if (control === "error") end({ code: 1, error: (value as { error: unknown }).error });
    else if (control === "exit") end({ code: (value as { code: number }).code });
    else state.message(value);
  });
  // Reaches here only when the bootstrap itself failed (could not be fetched or parsed): its own
  // handler reports every later error as a message.
  worker.addEventListener("error", (event) => {
    const message = (event as ErrorEvent).message || "the worker's script could not be loaded (worker-main.js)";
    end({ code: 1, error: (event as ErrorEvent).error ?? new Error(message) });
  });
  worker.addEventListener("messageerror", () => {
    end({ code: 1, error: new Error("a message from the worker could not be deserialized") });
  });
  return {
    postMessage: (value, transfer) => worker.postMessage(value, transfer ?? []),
    onMessage: state.onMessage,
    onExit: state.onExit,
    async terminate() {
      end({ code: 1 });
    },
    ref() {},
    unref() {},
  };
}
