// host.instantiate: a WebAssembly guest as managed code, the JS host as unmanaged code. Every
// function import is asked about once, at instantiation (IHostTaskManager::CallNeedsHostHook on
// its target): an import the host's policy answers false for is handed to the guest as it is (no
// hook, no cost); the others, and every export, are wrapped (hook-import.ts, hook-export.ts, suspending-import.ts). A suspending import
// may answer a promise: an f.call on an export then parks its fiber inside the guest, through
// asyncify (asyncify.ts) or JSPI (jspi.ts), driven by f.call (guest-call.ts).
// What the user hands in (imports, options) is read once, in user-input.ts; from there on only
// our own records are read, and the wrappers are made per import (module, name), never per
// joined "module.name" string.

import { E_NOTIMPL, HResultError, S_OK } from "../base/hresult.js";
import { describeValue } from "../base/args.js";
import { GuestState, type AnyFn } from "./guest.js";
import { Asyncify } from "./asyncify.js";
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
import { Jspi } from "./jspi.js";
import { findStack } from "./stack-finder.js";
import { ExternalLink, registerLink } from "./external-link.js";
import { asyncifyControls } from "./asyncify-controls.js";
import { chooseSuspension } from "./suspension-choice.js";
import { instantiateModule } from "./instance-start.js";
import { FIRST_IMPORT_TARGET, type FunctionImportInfo, type Guest, type InteropEnv } from "./guest-types.js";

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
    if (door.currentIdx() === door.rootIndex())
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

    const controls = asyncifyControls(exportDescs, sigs);
    const mode = chooseSuspension(opts.suspension, {
      imports: importDescs,
      exports: exportDescs,
      sigs,
      controls,
      regionGiven: opts.asyncifyData !== undefined,
      anySuspending,
    });

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

    const instance = await instantiateModule(this.env.door, g, module, wrapped as WebAssembly.Imports, bytes, sigs);
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
      // An external runtime's guest: its link decides (its asyncify controls pass through unhooked).
      else if (external !== null)
        put(exports, d.name, external.hookExport(value as AnyFn, d.name, controls.get(d.name)));
      // asyncify's own exports are machinery when fiberhost drives them (they stay on
      // instance.exports); otherwise they belong to whoever does (Emscripten's runtime calls
      // them from its imports, by their names or minified ones): kept, unhooked.
      else if (d.name.startsWith("asyncify_") || controls.has(d.name)) {
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
