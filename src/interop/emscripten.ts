// fiberhost/emscripten: an Emscripten-built guest (its JS glue and its wasm) on a fiberhost host.
// Emscripten's glue instantiates the wasm through Module.instantiateWasm; this adapter hands it a
// hooked instance from host.instantiate, and, for an -sASYNCIFY build (whose glue suspends the
// guest itself: Module.Asyncify), links the glue's suspensions to the fiber that started the call
// (external-link.ts): `yield* em.call(f, (signal) => glueCallAnsweringAPromise())`.

import type { FiberContext } from "../fiber/context.js";
import type { Op } from "../operations/operation.js";
import { E_INVALIDARG, HOST_E_INVALIDOPERATION, HResultError } from "../base/hresult.js";
import { describeValue } from "../base/args.js";
import type { Guest, InstantiateOptions } from "./guest-types.js";
import { externalLinkOf, type AsyncifyRuntime, type ExternalLink } from "./external-link.js";
import { ExternalCall } from "./external-call.js";
import { suspendingHostFunction } from "./external-suspending.js";

/** What the adapter needs of a host: its instantiate. */
export interface InstantiatingHost {
  instantiate(source: unknown, imports?: unknown, options?: InstantiateOptions): Promise<Guest>;
}

/** The wasm: its bytes or a compiled module, or a function that gives them (called once, when the glue asks). */
export type WasmSource =
  | BufferSource
  | WebAssembly.Module
  | (() => BufferSource | WebAssembly.Module | PromiseLike<BufferSource | WebAssembly.Module>);

export interface EmscriptenGuest {
  /**
   * Emscripten's Module.instantiateWasm: give it in the module's options (quickjs-emscripten:
   * `newVariant(variant, { emscriptenModule: { instantiateWasm: em.instantiateWasm } })`).
   */
  readonly instantiateWasm: (
    imports: WebAssembly.Imports,
    done: (instance: WebAssembly.Instance, module?: WebAssembly.Module) => void,
  ) => WebAssembly.Exports;
  /** The hooked guest, once the glue has instantiated it (rejects when host.instantiate refused it). */
  readonly ready: Promise<Guest>;
  /**
   * `yield* em.call(f, start)`: waits (FIFO) for the instance's turn, runs `start(signal)` on the
   * fiber (it calls into the guest through its glue and answers the glue's promise), and answers
   * what that promise settles to. The call's crossings are counted on the fiber's task, and while the
   * glue has the guest suspended the fiber's frames are [..., R, L(target)]. An abort of the fiber
   * aborts `signal` and the pending host function (see suspending), and is thrown once the guest has
   * unwound. Throws HResultError: E_INVALIDARG for a start that is not a function or another host's
   * fiber, HOST_E_INVALIDOPERATION for a guest that is not an asyncify build linked here (not yet
   * instantiated, or a synchronous build: call it directly in the fiber).
   */
  call<T>(f: FiberContext, start: (signal: AbortSignal) => PromiseLike<T> | T): Op<T>;
  /**
   * An async host function for the guest's glue to wait for (quickjs-emscripten:
   * `ctx.newAsyncifiedFunction(name, em.suspending(work, finish))`): `work(...args)` runs at once,
   * inside the import; when it answers a promise, the guest gets `finish(value)` (e.g. a QuickJS
   * handle made from it; default: the value) only while the runtime is not suspended, and the
   * rejection (or the abort of the waiting fiber) thrown at its call site.
   */
  suspending<A extends unknown[], V, R = V>(
    work: (this: unknown, ...args: A) => PromiseLike<V> | V,
    finish?: (value: V) => R,
  ): (this: unknown, ...args: A) => R | V | Promise<R | V>;
  /** The AbortSignal of the call in flight (null: none), for a host function's work. */
  readonly signal: AbortSignal | null;
}

export interface EmscriptenOptions {
  /**
   * host.instantiate's options (suspension: default "external" when the glue has Module.Asyncify;
   * else "auto", or "none" for a compiled WebAssembly.Module, whose code "auto" cannot read).
   */
  instantiate?: InstantiateOptions;
}

function bad(message: string): HResultError {
  return new HResultError(E_INVALIDARG, `fiberhost/emscripten: ${message}`);
}

function isRuntime(v: unknown): v is AsyncifyRuntime {
  return typeof v === "object" && v !== null && typeof (v as { state?: unknown }).state === "number";
}

/**
 * An Emscripten guest for `host`: `wasm` is what the glue would load (the module's .wasm file).
 * One EmscriptenGuest per Emscripten module instance (its instantiateWasm is used once).
 */
export function emscriptenGuest(
  host: InstantiatingHost,
  wasm: WasmSource,
  options: EmscriptenOptions = {},
): EmscriptenGuest {
  if (typeof host !== "object" || host === null || typeof host.instantiate !== "function")
    throw bad(`host must be a fiberhost host, not ${describeValue(host)}`);
  if (
    !(wasm instanceof WebAssembly.Module) &&
    !(wasm instanceof ArrayBuffer) &&
    !ArrayBuffer.isView(wasm) &&
    typeof wasm !== "function"
  )
    throw bad(
      `wasm must be the module's bytes, a WebAssembly.Module or a function giving one, not ${describeValue(wasm)}`,
    );
  if (typeof options !== "object" || options === null) throw bad("options must be an object");
  const instantiateOptions = options.instantiate ?? {};
  if (typeof instantiateOptions !== "object" || instantiateOptions === null)
    throw bad("options.instantiate must be an object");

  let link: ExternalLink | null = null;
  let used = false;
  let settle!: { resolve(g: Guest): void; reject(e: unknown): void };
  const ready = new Promise<Guest>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // A guest that never gets instantiated (or whose instantiation failed) is not an unhandled rejection.
  ready.catch(() => {});

  function instantiateWasm(
    this: unknown,
    imports: WebAssembly.Imports,
    done: (instance: WebAssembly.Instance, module?: WebAssembly.Module) => void,
  ): WebAssembly.Exports {
    if (used) throw bad("instantiateWasm was called twice: make one emscriptenGuest per module instance");
    used = true;
    // Emscripten calls it as a method of its Module: Module.Asyncify is its suspension runtime.
    const runtime = (this as { Asyncify?: unknown } | undefined)?.Asyncify;
    const given = instantiateOptions.suspension;
    (async () => {
      const source = typeof wasm === "function" ? await wasm() : wasm;
      // Without Module.Asyncify nothing of the glue's suspends the guest; "auto" would look for a
      // minified asyncify build's code, which a compiled module does not show ("none" is the answer).
      const suspension =
        given ?? (isRuntime(runtime) ? "external" : source instanceof WebAssembly.Module ? "none" : "auto");
      const g = await host.instantiate(source, imports, { ...instantiateOptions, suspension });
      link = externalLinkOf(g.exports);
      if (link !== null && isRuntime(runtime)) link.runtime = runtime;
      settle.resolve(g);
      // The glue reads only the instance's exports: the hooked ones.
      done({ exports: g.exports } as WebAssembly.Instance, g.module);
    })().catch((err) => settle.reject(err));
    return {}; // instantiation is asynchronous: the glue waits for done()
  }

  return {
    instantiateWasm,
    ready,
    call<T>(f: FiberContext, start: (signal: AbortSignal) => PromiseLike<T> | T): Op<T> {
      if (typeof start !== "function")
        throw bad(`call(f, start): start must be a function, not ${describeValue(start)}`);
      const task = (f as { task?: unknown } | null)?.task;
      const env = (f as { env?: unknown } | null)?.env as ExternalCall<T>["env"] | undefined;
      if (link === null)
        throw new HResultError(
          HOST_E_INVALIDOPERATION,
          "fiberhost/emscripten: call(f, start) needs an -sASYNCIFY guest instantiated through this adapter (await em.ready first; a synchronous build is called directly)",
        );
      if (task === undefined || env === undefined || env.door !== link.door)
        throw bad(`call(f, start): f must be the context of a fiber of this guest's host, not ${describeValue(f)}`);
      return new ExternalCall<T>(task as ExternalCall<T>["task"], env, link, start);
    },
    suspending(work, finish) {
      if (link === null)
        throw new HResultError(
          HOST_E_INVALIDOPERATION,
          "fiberhost/emscripten: suspending() needs an -sASYNCIFY guest instantiated through this adapter (await em.ready first)",
        );
      return suspendingHostFunction(link, work, finish);
    },
    get signal(): AbortSignal | null {
      return link?.owner?.signal ?? null;
    },
  };
}

export type { AsyncifyRuntime };
