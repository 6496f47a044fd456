// host.instantiate: a WebAssembly guest as managed code, the JS host as unmanaged code. Every
// function import is asked about once, at instantiation (IHostTaskManager::CallNeedsHostHook on
// its target): an import the host's policy answers false for is handed to the guest as it is (no
// hook, no cost); the others, and every export, are wrapped (wrappers.ts). A suspending import
// may answer a promise: an f.call on an export then parks its fiber inside the guest, through
// asyncify (asyncify.ts, call-op.ts) or JSPI (jspi.ts, call-jspi.ts); call-core.ts holds what both share.

import type { CoreDoor } from "../core/door.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import { E_INVALIDARG, E_NOTIMPL, HResultError, S_OK } from "../hresult.js";
import { describeValue, isDword } from "../args.js";
import { GuestState, noWait, type SuspensionMode } from "./guest.js";
import { Asyncify, MIN_ASYNCIFY_DATA } from "./asyncify.js";
import { readSignatures, type Signatures } from "./binary.js";
import { hookExport, hookImport, suspendingImport } from "./wrappers.js";
import { Jspi, jspiAvailable } from "./jspi.js";
import { ExternalLink, registerLink } from "./external.js";

/** Default import targets are numbered from here (their "addresses"), one per distinct function. */
export const FIRST_IMPORT_TARGET = 0x80000000;

export interface InstantiateOptions {
  /** Imports that may answer a promise, as "module.name" (async functions are suspending anyway). */
  suspending?: string[];
  /**
   * How a suspending import suspends the guest: "auto" (default), "asyncify", "jspi", "external"
   * (its own runtime suspends it: Emscripten's Asyncify; see fiberhost/emscripten) or "none".
   */
  suspension?: "auto" | SuspensionMode;
  /** The guest's asyncify data region (default: its exports asyncify_data_address() and asyncify_data_size()). */
  asyncifyData?: { address: number; size: number };
  /** Names an import's LeaveRuntime target (a DWORD); undefined: the default numbering. */
  target?: (module: string, name: string, fn: (...args: any[]) => any) => number | undefined;
}

export interface Guest<E = Record<string, any>> {
  module: WebAssembly.Module;
  /** The underlying instance (its exports are not hooked). */
  instance: WebAssembly.Instance;
  /** The hooked exports: what users call (functions hooked, memories and globals as they are). */
  exports: E;
  /** The suspension in use. */
  suspension: SuspensionMode;
  /** Each function import ("module.name") → its LeaveRuntime target. */
  targets: Record<string, number>;
  /** Each function import ("module.name") → whether it is hooked (the policy's answer). */
  hooked: Record<string, boolean>;
}

/** What instantiate needs from its host. */
export interface InteropEnv {
  /** @internal */
  door: CoreDoor;
  /** @internal */
  sched: Scheduler;
  needsHostHook(target: number): boolean;
}

type AnyFn = (...args: any[]) => any;

function bad(message: string, cause?: unknown): HResultError {
  const err = new HResultError(E_INVALIDARG, `instantiate: ${message}`);
  if (cause !== undefined) (err as { cause?: unknown }).cause = cause;
  return err;
}

const isAsyncFunction = (fn: AnyFn): boolean => Object.prototype.toString.call(fn) === "[object AsyncFunction]";

function bytesOf(source: unknown): Uint8Array | null {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return null;
}

/**
 * An asyncified guest whose asyncify belongs to its own runtime (Emscripten's): it imports its
 * memory instead of exporting it, so fiberhost's own asyncify could not drive it.
 */
function ownRuntime(
  imports: WebAssembly.ModuleImportDescriptor[],
  exports: WebAssembly.ModuleExportDescriptor[],
): boolean {
  return imports.some((d) => d.kind === "memory") && !exports.some((d) => d.kind === "memory");
}

export class Interop {
  /** The same function imported twice (by any guest of this host) is the same target. */
  private readonly targetOf = new WeakMap<AnyFn, number>();
  private nextTarget = FIRST_IMPORT_TARGET;

  constructor(private readonly env: InteropEnv) {}

  async instantiate(source: unknown, imports: unknown = {}, options: InstantiateOptions = {}): Promise<Guest> {
    const hr = this.env.door.available();
    if (hr !== S_OK) throw new HResultError(hr, "instantiate: the runtime is not available");
    if (typeof imports !== "object" || imports === null) throw bad("imports must be an object");
    if (typeof options !== "object" || options === null) throw bad("options must be an object");
    const { suspending = [], suspension = "auto", asyncifyData, target } = options;
    if (!Array.isArray(suspending) || !suspending.every((s) => typeof s === "string"))
      throw bad("options.suspending must be an array of 'module.name' strings");
    if (!["auto", "asyncify", "jspi", "external", "none"].includes(suspension as string))
      throw bad(
        `options.suspension must be 'auto', 'asyncify', 'jspi', 'external' or 'none', not ${describeValue(suspension)}`,
      );
    if (target !== undefined && typeof target !== "function") throw bad("options.target must be a function");
    if (
      asyncifyData !== undefined &&
      (typeof asyncifyData !== "object" ||
        asyncifyData === null ||
        !isDword(asyncifyData.address) ||
        !isDword(asyncifyData.size) ||
        asyncifyData.size < MIN_ASYNCIFY_DATA ||
        asyncifyData.address % 4 !== 0)
    ) {
      throw bad(
        `options.asyncifyData must be { address, size } with a 4-aligned address and a size of at least ${MIN_ASYNCIFY_DATA}`,
      );
    }

    let module: WebAssembly.Module;
    const bytes = bytesOf(source);
    if (source instanceof WebAssembly.Module) module = source;
    else if (bytes !== null) {
      try {
        module = await WebAssembly.compile(bytes as BufferSource);
      } catch (err) {
        throw bad(`the bytes are not a valid WebAssembly module (${(err as Error).message})`, err);
      }
    } else throw bad("source must be a WebAssembly.Module, an ArrayBuffer or a typed array of its bytes");
    const sigs: Signatures | null = bytes !== null ? readSignatures(bytes) : null;

    const importDescs = WebAssembly.Module.imports(module);
    const exportDescs = WebAssembly.Module.exports(module);
    const ns = imports as Record<string, Record<string, unknown> | undefined>;
    const fnImports = importDescs.filter((d) => d.kind === "function");
    const functionOf = (m: string, n: string): AnyFn => {
      const fn = (ns[m] as Record<string, unknown> | undefined)?.[n];
      if (typeof fn !== "function")
        throw bad(
          `the guest imports the function ${m}.${n}; imports.${m}.${n} is ${fn === undefined ? "missing" : `a ${typeof fn}`}`,
        );
      return fn as AnyFn;
    };

    const suspendingKeys = new Set<string>();
    for (const key of suspending) {
      if (!fnImports.some((d) => `${d.module}.${d.name}` === key))
        throw bad(`options.suspending names ${key}, which the guest does not import as a function`);
      suspendingKeys.add(key);
    }
    for (const d of fnImports)
      if (isAsyncFunction(functionOf(d.module, d.name))) suspendingKeys.add(`${d.module}.${d.name}`);

    const asyncified = Asyncify.isAsyncified(exportDescs);
    let mode: SuspensionMode;
    if (suspension === "auto")
      mode =
        asyncified && ownRuntime(importDescs, exportDescs)
          ? "external"
          : asyncified
            ? "asyncify"
            : suspendingKeys.size > 0 && jspiAvailable() && sigs !== null
              ? "jspi"
              : "none";
    else mode = suspension;
    if (mode === "asyncify" && !asyncified)
      throw bad(
        "suspension 'asyncify' needs a guest built with Binaryen's asyncify pass (it exports asyncify_start_unwind …)",
      );
    if (mode === "jspi") {
      if (!jspiAvailable())
        throw new HResultError(
          E_NOTIMPL,
          "instantiate: this engine has no JSPI (WebAssembly.Suspending and WebAssembly.promising)",
        );
      if (sigs === null)
        throw bad(
          "suspension 'jspi' needs the guest's bytes (not a compiled Module), in a form whose types this reader knows",
        );
    }

    const g = new GuestState(this.env.door, mode);
    const jspi = mode === "jspi" ? new Jspi(g) : null;
    g.jspi = jspi;
    const external = mode === "external" ? new ExternalLink(g, this.env.door) : null;

    // The import object: every namespace copied, function imports wrapped by the policy.
    const wrapped: Record<string, Record<string, unknown>> = {};
    for (const [m, fields] of Object.entries(ns)) {
      if (typeof fields === "object" && fields !== null) wrapped[m] = { ...fields };
    }
    const targets: Record<string, number> = {};
    const hookedMap: Record<string, boolean> = {};
    for (const d of fnImports) {
      const key = `${d.module}.${d.name}`;
      const fn = functionOf(d.module, d.name);
      const t = this.targetFor(fn, d.module, d.name, target);
      const hooked = this.env.needsHostHook(t);
      targets[key] = t;
      hookedMap[key] = hooked;
      const arity = sigs?.imports.get(key)?.params.length ?? -1;
      let w: AnyFn;
      if (external !== null) w = hooked ? external.hookImport(fn, t, key) : fn;
      else if (!suspendingKeys.has(key)) w = hooked ? hookImport(g, fn, t, key, arity) : fn;
      else if (jspi !== null) w = jspi.wrapImport(fn, t, hooked, key, sigs!.imports.get(key)!);
      else w = suspendingImport(g, fn, t, hooked, key);
      wrapped[d.module][d.name] = w;
    }

    let instance: WebAssembly.Instance;
    try {
      // A start function is guest code that the host calls: it runs between ReverseEnterRuntime
      // and ReverseLeaveRuntime on the current task, so its imports cross as any call's do (the
      // module is compiled already: instantiating it synchronously keeps the pair around it alone).
      instance =
        sigs === null || sigs.hasStart
          ? this.startGuest(module, wrapped as WebAssembly.Imports)
          : await WebAssembly.instantiate(module, wrapped as WebAssembly.Imports);
    } catch (err) {
      // What the start function threw (or a trap in it) reaches the caller as it is.
      if (!(err instanceof WebAssembly.LinkError)) throw err;
      throw bad(`the guest could not be instantiated (${(err as Error).message})`, err);
    }
    const raw = instance.exports;

    if (mode === "asyncify") {
      const memory = raw.memory;
      if (!(memory instanceof WebAssembly.Memory))
        throw bad("suspension 'asyncify' needs the guest to export its memory as 'memory'");
      let region = asyncifyData;
      if (region === undefined) {
        const addr = raw.asyncify_data_address;
        const size = raw.asyncify_data_size;
        if (typeof addr !== "function" || typeof size !== "function") {
          throw bad(
            "suspension 'asyncify' needs a data region: options.asyncifyData, or guest exports asyncify_data_address() and asyncify_data_size()",
          );
        }
        region = { address: Number(addr()), size: Number(size()) };
        if (
          !isDword(region.address) ||
          !isDword(region.size) ||
          region.size < MIN_ASYNCIFY_DATA ||
          region.address % 4 !== 0
        ) {
          throw bad(
            `the guest's asyncify data region (${region.address}, ${region.size} bytes) is not a 4-aligned region of at least ${MIN_ASYNCIFY_DATA} bytes`,
          );
        }
      }
      if (region.address + region.size > memory.buffer.byteLength)
        throw bad("the asyncify data region lies outside the guest's memory");
      g.asyncify = new Asyncify(raw, memory, region.address, region.size);
    }

    const exports: Record<string, unknown> = {};
    for (const d of exportDescs) {
      const value = raw[d.name];
      // asyncify's own exports are machinery, not the guest's API (they stay on instance.exports).
      if (d.kind !== "function") exports[d.name] = value;
      else if (external !== null) exports[d.name] = external.hookExport(value as AnyFn, d.name);
      else if (d.name.startsWith("asyncify_") && mode !== "asyncify")
        exports[d.name] = value; // another runtime's asyncify (Emscripten's glue asks for them): unhooked
      else if (!d.name.startsWith("asyncify_"))
        exports[d.name] = hookExport(g, value as AnyFn, d.name, jspi === null ? null : jspi.fence);
    }
    if (jspi !== null) jspi.attach(raw, sigs!);
    Object.freeze(exports);
    if (external !== null) registerLink(exports, external);
    return { module, instance, exports, suspension: mode, targets, hooked: hookedMap };
  }

  private startGuest(module: WebAssembly.Module, imports: WebAssembly.Imports): WebAssembly.Instance {
    const door = this.env.door;
    const hr = door.reverseEnter();
    if (hr !== S_OK)
      throw new HResultError(noWait(hr), "instantiate: ReverseEnterRuntime failed before the guest's start function");
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, imports);
    } catch (err) {
      door.reverseLeave();
      throw err;
    }
    const hr2 = door.reverseLeave();
    if (hr2 !== S_OK)
      throw new HResultError(hr2, "instantiate: ReverseLeaveRuntime failed after the guest's start function");
    return instance;
  }

  private targetFor(fn: AnyFn, m: string, n: string, name: InstantiateOptions["target"]): number {
    if (name !== undefined) {
      const t = name(m, n, fn);
      if (t !== undefined) {
        if (!isDword(t))
          throw bad(`options.target answered ${describeValue(t)} for ${m}.${n}: a target is an integer in 0 … 2^32−1`);
        return t;
      }
    }
    let t = this.targetOf.get(fn);
    if (t === undefined) {
      t = this.nextTarget++ >>> 0;
      this.targetOf.set(fn, t);
    }
    return t;
  }
}
