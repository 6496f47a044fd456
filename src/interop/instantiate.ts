// host.instantiate: a WebAssembly guest as managed code, the JS host as unmanaged code. Every
// function import is asked about once, at instantiation (IHostTaskManager::CallNeedsHostHook on
// its target): an import the host's policy answers false for is handed to the guest as it is (no
// hook, no cost); the others, and every export, are wrapped (hook-import.ts, hook-export.ts, suspending-import.ts). A suspending import
// may answer a promise: an f.call on an export then parks its fiber inside the guest, through
// asyncify (asyncify.ts) or JSPI (jspi.ts), driven by f.call (guest-call.ts).
// What the user hands in (imports, options) is read once, in user-input.ts; from there on only
// our own records are read, and the wrappers are made per import (module, name), never per
// joined "module.name" string.

import type { CoreDoor } from "../core/door.js";
import { E_NOTIMPL, HResultError, S_OK } from "../base/hresult.js";
import { describeValue } from "../base/args.js";
import { GuestState, noWait, type SuspensionMode, type AnyFn } from "./guest.js";
import { ASYNCIFY_EXPORTS, Asyncify } from "./asyncify.js";
import { readSignatures, type Signature, type Signatures } from "./binary.js";
import {
  askTarget,
  bad,
  ImportsSnapshot,
  put,
  readInstantiateOptions,
  readRegion,
  record,
  type OptionsSnapshot,
} from "./user-input.js";
import { hookExport } from "./hook-export.js";
import { hookImport } from "./hook-import.js";
import { suspendingImport } from "./suspending-import.js";
import { Jspi, jspiAvailable } from "./jspi.js";
import { findStack } from "./stack-finder.js";
import { ExternalLink, registerLink } from "./external-link.js";
import type { GuestStackKind, StackOption } from "./stack-types.js";

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
  // biome-ignore lint/suspicious/noExplicitAny: an import of any signature
  target?: (module: string, name: string, fn: (...args: any[]) => any) => number | undefined;
  /**
   * The guest's linear-memory stack (see README, "Guests with a stack in linear memory"): "auto"
   * (default: an exported `__stack_pointer`, an imported one, or Emscripten's stack exports),
   * "none", "serial", or where its pointer is.
   */
  stack?: StackOption;
}

// biome-ignore lint/suspicious/noExplicitAny: a guest's exports are untyped unless the caller names them
export interface Guest<E = Record<string, any>> {
  module: WebAssembly.Module;
  /** The underlying instance (its exports are not hooked). */
  instance: WebAssembly.Instance;
  /**
   * The hooked exports: what users call (functions hooked, memories and globals as they are). A
   * frozen null-prototype record, like instance.exports: an export named "__proto__" is a key.
   */
  exports: E;
  /** The suspension in use. */
  suspension: SuspensionMode;
  /**
   * How the guest's linear-memory stack is kept while calls are parked in it: "per-fiber" (each
   * parked call's frames its own), "serial" (one parked call at a time: other fibers' f.calls
   * wait, FIFO), or "none" (no stack found, or no call can park).
   */
  stack: GuestStackKind;
  /** Each function import ("module.name") → its LeaveRuntime target (see functionImports where joined names collide). */
  targets: Record<string, number>;
  /** Each function import ("module.name") → whether it is hooked (the policy's answer). */
  hooked: Record<string, boolean>;
  /** Each function import, in the module's order: its (module, name) pair, target, and whether it is hooked and suspending. */
  functionImports: FunctionImportInfo[];
}

export interface FunctionImportInfo {
  readonly module: string;
  readonly name: string;
  readonly target: number;
  readonly hooked: boolean;
  readonly suspending: boolean;
}

/** What instantiate needs from its host. */
export interface InteropEnv {
  /** @internal */
  door: CoreDoor;
  needsHostHook(target: number): boolean;
}

/**
 * Chromium refuses `new WebAssembly.Instance` on the main thread for a module over 8 MB
 * ("WebAssembly.Instance is disallowed on the main thread, if the buffer size is larger than
 * 8MB"): such a guest is instantiated asynchronously.
 */
export const SYNC_INSTANCE_LIMIT = 8 * 1024 * 1024;

const sameSignature = (a: Signature, b: Signature): boolean =>
  a.params.length === b.params.length &&
  a.results.length === b.results.length &&
  a.params.every((t, i) => t === b.params[i]) &&
  a.results.every((t, i) => t === b.results[i]);

const isAsyncFunction = (fn: AnyFn): boolean => Object.prototype.toString.call(fn) === "[object AsyncFunction]";

function bytesOf(source: unknown): Uint8Array | null {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return null;
}

/**
 * Whose are a guest's asyncify exports? "ours": a guest built with the pass for fiberhost to drive
 * (the five asyncify_* exports, its memory exported as `memory` and not imported, and a data
 * region: exports asyncify_data_address/size, or options.asyncifyData). "theirs": asyncify
 * control exports that another runtime drives (Emscripten's Asyncify: memory imported or not
 * exported as `memory`, no data-region exports, a partial set). null: none of the five.
 */
export function asyncifyOwner(
  imports: readonly WebAssembly.ModuleImportDescriptor[],
  exports: readonly WebAssembly.ModuleExportDescriptor[],
  regionGiven: boolean,
): "ours" | "theirs" | null {
  const names = new Set<string>();
  let any = false;
  let exportsMemory = false;
  for (const d of exports) {
    if (d.kind === "function") names.add(d.name);
    if ((ASYNCIFY_EXPORTS as readonly string[]).includes(d.name)) any = true;
    if (d.kind === "memory" && d.name === "memory") exportsMemory = true;
  }
  if (!any) return null;
  const importsMemory = imports.some((d) => d.kind === "memory");
  const region = regionGiven || (names.has("asyncify_data_address") && names.has("asyncify_data_size"));
  return ASYNCIFY_EXPORTS.every((n) => names.has(n)) && exportsMemory && !importsMemory && region ? "ours" : "theirs";
}

/**
 * An asyncified guest whose asyncify belongs to its own runtime (Emscripten's): it imports its
 * memory instead of exporting it, so fiberhost's own asyncify could not drive it.
 */
function ownRuntime(
  imports: readonly WebAssembly.ModuleImportDescriptor[],
  exports: readonly WebAssembly.ModuleExportDescriptor[],
): boolean {
  return imports.some((d) => d.kind === "memory") && !exports.some((d) => d.kind === "memory");
}

export class Interop {
  /** The same function imported twice (by any guest of this host) is the same target. */
  private readonly targetOf = new WeakMap<AnyFn, number>();
  private nextTarget = FIRST_IMPORT_TARGET;

  /** The root task's frames left open by a runtime suspension (see GuestState.rootOwed). */
  private readonly rootOwed = { frames: 0 };

  constructor(private readonly env: InteropEnv) {}

  /**
   * The runtime resumed: the root task's frames that an exception could not close while it was
   * suspended are closed now, when the root task is current (a resume made inside a fiber leaves
   * them as they are: the root task may have crossed on top of them by the next chance).
   */
  runtimeResumed(): void {
    const owed = this.rootOwed;
    if (owed.frames === 0) return;
    const door = this.env.door;
    if (door.currentIdx() === 0)
      for (; owed.frames > 0; owed.frames--) {
        // Top first: a LeaveRuntime frame closes with EnterRuntime, a ReverseEnterRuntime frame with ReverseLeaveRuntime.
        if (door.enter() !== S_OK && door.reverseLeave() !== S_OK) break;
      }
    owed.frames = 0;
  }

  async instantiate(source: unknown, imports: unknown = {}, options: unknown = {}): Promise<Guest> {
    const hr = this.env.door.available();
    if (hr !== S_OK) throw new HResultError(hr, "instantiate: the runtime is not available");
    if (!((typeof imports === "object" && imports !== null) || typeof imports === "function"))
      throw bad(`imports must be an object, not ${describeValue(imports)}`);
    const opts = readInstantiateOptions(options);

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
    const importDescs = WebAssembly.Module.imports(module);
    const exportDescs = WebAssembly.Module.exports(module);
    const fnDescs = importDescs.filter((d) => d.kind === "function");
    let sigs: Signatures | null = bytes !== null ? readSignatures(bytes) : null;
    // The reader and the engine must agree on the function imports, one for one.
    if (
      sigs !== null &&
      (sigs.imports.length !== fnDescs.length ||
        sigs.imports.some((s, i) => s.module !== fnDescs[i].module || s.name !== fnDescs[i].name))
    )
      sigs = null;

    // The user's imports, read once: every (module, name) the guest imports, and nothing else.
    const given = new ImportsSnapshot(imports, importDescs);
    const fns = fnDescs.map((d) => given.fn(d.module, d.name));

    // options.suspending names imports as "module.name": one lookup each (a joined name that two
    // imports share, "env.x" + "f" and "env" + "x.f", names both).
    const joined = fnDescs.map((d) => `${d.module}.${d.name}`);
    const imported = new Set(joined);
    const listed = new Set<string>();
    for (const key of opts.suspending) {
      if (!imported.has(key))
        throw bad(`options.suspending names ${key}, which the guest does not import as a function`);
      listed.add(key);
    }
    const suspendingAt = fnDescs.map((_, i) => listed.has(joined[i]) || isAsyncFunction(fns[i]));
    const anySuspending = suspendingAt.includes(true);

    const owner = asyncifyOwner(importDescs, exportDescs, opts.asyncifyData !== undefined);
    let mode: SuspensionMode;
    if (opts.suspension === "auto")
      // A guest whose asyncify exports another runtime drives is not ours to suspend; one that
      // imports its memory and exports none is Emscripten's shape: followed ("external").
      mode =
        owner === "ours"
          ? "asyncify"
          : owner === "theirs" && ownRuntime(importDescs, exportDescs)
            ? "external"
            : owner === null && anySuspending && jspiAvailable() && sigs !== null
              ? "jspi"
              : "none";
    else mode = opts.suspension;
    if (mode === "asyncify" && !Asyncify.isAsyncified(exportDescs))
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
    g.rootOwed = this.rootOwed;
    const jspi = mode === "jspi" ? new Jspi(g) : null;
    g.jspi = jspi;
    const external = mode === "external" ? new ExternalLink(g, this.env.door) : null;

    // One wrapper per (module, name): the import object holds one value for it, whatever the
    // number of imports that name it, so its arity is theirs when they agree, else rest parameters.
    const targets = record<number>();
    const hookedMap = record<boolean>();
    const functionImports: FunctionImportInfo[] = [];
    // The signature of each (module, name): null where its imports disagree, or are unknown.
    const sigOf = new Map<string, Map<string, Signature | null>>();
    for (let i = 0; i < fnDescs.length; i++) {
      const { module: m, name: n } = fnDescs[i];
      const sig = sigs === null ? null : sigs.imports[i].sig;
      let names = sigOf.get(m);
      if (names === undefined) sigOf.set(m, (names = new Map()));
      const seen = names.get(n);
      if (seen === undefined) names.set(n, sig);
      else if (seen !== null && (sig === null || !sameSignature(seen, sig))) names.set(n, null);
    }
    const wrappers = new Map<string, Map<string, AnyFn>>();
    for (let i = 0; i < fnDescs.length; i++) {
      const { module: m, name: n } = fnDescs[i];
      const fn = fns[i];
      const t = this.targetFor(fn, m, n, opts.target);
      const hooked = this.env.needsHostHook(t);
      const suspending = suspendingAt[i];
      functionImports.push(Object.freeze({ module: m, name: n, target: t, hooked, suspending }));
      const key = joined[i];
      if (!(key in targets)) {
        put(targets, key, t);
        put(hookedMap, key, hooked);
      }
      let made = wrappers.get(m);
      if (made === undefined) wrappers.set(m, (made = new Map()));
      if (made.has(n)) continue;
      const sig = sigOf.get(m)!.get(n)!;
      let w: AnyFn;
      if (external !== null) w = hooked ? external.hookImport(fn, t, key) : fn;
      else if (!suspending) w = hooked ? hookImport(g, fn, t, key, sig === null ? -1 : sig.params.length) : fn;
      else if (jspi !== null) {
        if (sig === null)
          throw new HResultError(
            E_NOTIMPL,
            `instantiate: JSPI makes one trampoline per signature; the guest imports ${key} with several`,
          );
        w = jspi.wrapImport(fn, t, hooked, key, sig);
      } else w = suspendingImport(g, fn, t, hooked, key);
      made.set(n, w);
    }

    // The import object handed to the engine: null-prototype records holding what the guest
    // imports (the wrappers, and memories, tables and globals as given), written with defineProperty.
    const wrapped = record<Record<string, unknown>>();
    for (const d of importDescs) {
      let ns = wrapped[d.module];
      if (ns === undefined) put(wrapped, d.module, (ns = record<unknown>()));
      if (d.name in ns) continue;
      put(ns, d.name, d.kind === "function" ? wrappers.get(d.module)!.get(d.name)! : given.get(d.module, d.name));
    }

    const instance = await this.instantiateModule(g, module, wrapped as WebAssembly.Imports, bytes, sigs);
    const raw = instance.exports;

    if (mode === "asyncify") {
      const memory = raw.memory;
      if (!(memory instanceof WebAssembly.Memory))
        throw bad("suspension 'asyncify' needs the guest to export its memory as 'memory'");
      let region = opts.asyncifyData;
      if (region === undefined) {
        const addr = raw.asyncify_data_address;
        const size = raw.asyncify_data_size;
        if (typeof addr !== "function" || typeof size !== "function") {
          throw bad(
            "suspension 'asyncify' needs a data region: options.asyncifyData, or guest exports asyncify_data_address() and asyncify_data_size()",
          );
        }
        region = readRegion({ address: Number(addr()), size: Number(size()) }, "the guest's asyncify data region");
      }
      if (region.address + region.size > memory.buffer.byteLength)
        throw bad("the asyncify data region lies outside the guest's memory");
      g.asyncify = new Asyncify(raw, memory, region.address, region.size);
    }

    // The stack is looked for in the import object handed to the engine (fiberhost's own records), never in the user's.
    // An external runtime's calls take turns per instance (ExternalCall's FIFO): its stack is never
    // shared by two parked calls, so there is nothing to keep per fiber.
    const plan = findStack(opts.stack, mode === "external" ? "none" : mode, module, raw, wrapped);
    g.stack = plan.stack;
    g.gate = plan.gate;

    const exports = record<unknown>();
    for (const d of exportDescs) {
      const value = raw[d.name];
      if (d.kind !== "function") put(exports, d.name, value);
      // An external runtime's guest: its link decides (asyncify_* exports pass through unhooked).
      else if (external !== null) put(exports, d.name, external.hookExport(value as AnyFn, d.name));
      // asyncify's own exports are machinery when fiberhost drives them (they stay on
      // instance.exports); otherwise they belong to whoever does (Emscripten's runtime calls
      // them from its imports): kept, unhooked.
      else if (d.name.startsWith("asyncify_")) {
        if (mode !== "asyncify") put(exports, d.name, value);
      } else put(exports, d.name, hookExport(g, value as AnyFn, d.name, jspi === null ? null : jspi.fence));
    }
    if (jspi !== null) jspi.attach(raw, sigs!);
    Object.freeze(exports);
    if (external !== null) registerLink(exports, external);
    return {
      module,
      instance,
      exports,
      suspension: mode,
      stack: plan.kind,
      targets,
      hooked: hookedMap,
      functionImports,
    };
  }

  /**
   * Instantiates the module. A start function is guest code that the host calls: it runs between
   * ReverseEnterRuntime and ReverseLeaveRuntime on the current task, so its imports cross as any
   * call's. A module known to have none is instantiated asynchronously; one with a start function,
   * synchronously (the pair around it alone), unless the engine may refuse that (a compiled
   * Module, whose size and start we cannot see, or bytes over SYNC_INSTANCE_LIMIT): then
   * asynchronously, the pair opened by the start's first hooked import and closed when the
   * instantiation settles.
   */
  private async instantiateModule(
    g: GuestState,
    module: WebAssembly.Module,
    imports: WebAssembly.Imports,
    bytes: Uint8Array | null,
    sigs: Signatures | null,
  ): Promise<WebAssembly.Instance> {
    try {
      if (sigs !== null && !sigs.hasStart) return await WebAssembly.instantiate(module, imports);
      if (bytes !== null && bytes.length <= SYNC_INSTANCE_LIMIT) return this.startGuest(module, imports);
      const starting = { opened: false };
      g.starting = starting;
      let instance: WebAssembly.Instance;
      try {
        instance = await WebAssembly.instantiate(module, imports);
      } finally {
        g.starting = null;
        if (starting.opened) {
          const hr = this.env.door.reverseLeave();
          if (hr !== S_OK)
            // biome-ignore lint/correctness/noUnsafeFinally: a failed close is the answer
            throw new HResultError(hr, "instantiate: ReverseLeaveRuntime failed after the guest's start function");
        }
      }
      return instance;
    } catch (err) {
      // What the start function threw (or a trap in it) reaches the caller as it is.
      if (!(err instanceof WebAssembly.LinkError)) throw err;
      throw bad(`the guest could not be instantiated (${(err as Error).message})`, err);
    }
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

  private targetFor(fn: AnyFn, m: string, n: string, name: OptionsSnapshot["target"]): number {
    if (name !== undefined) {
      const t = askTarget(name, m, n, fn);
      if (t !== undefined) return t;
    }
    let t = this.targetOf.get(fn);
    if (t === undefined) {
      t = this.nextTarget++ >>> 0;
      this.targetOf.set(fn, t);
    }
    return t;
  }
}
