// An Emscripten-built synchronous guest from npm (QuickJS, quickjs-emscripten's release-sync
// variant) hooked through Emscripten's instantiateWasm by fiberhost/emscripten: many fibers share
// one instance, and each fiber's crossings (its evals, the host functions the guest calls back)
// are counted on its own task.
import { describe, it, expect } from "vitest";
import {
  newQuickJSAsyncWASMModuleFromVariant,
  newQuickJSWASMModuleFromVariant,
  newVariant,
} from "quickjs-emscripten-core";
import { createHost, E_INVALIDARG, HOST_E_INVALIDOPERATION, HResultError, type Task } from "../src/index.js";
import { emscriptenGuest } from "../src/interop/emscripten.js";
import { expectBalanced } from "./support/fibers.js";
import { deferred, frameNames, until } from "./support/guest.js";
import { variant, wasmBytes } from "./support/quickjs.js";
import { I32, op, wasmModule } from "./support/wasm-writer.js";

const transitions = (c: {
  reverseEnterRuntime: number;
  leaveRuntime: number;
  enterRuntime: number;
  reverseLeaveRuntime: number;
}) => [c.reverseEnterRuntime, c.leaveRuntime, c.enterRuntime, c.reverseLeaveRuntime];

describe("an Emscripten synchronous guest (QuickJS release-sync) through instantiateWasm", () => {
  it("many fibers share one instance; each fiber's crossings are on its own task, none on the root task", async () => {
    const host = await createHost();
    const em = emscriptenGuest(host, await wasmBytes("release-sync"));
    const module = await newQuickJSWASMModuleFromVariant(
      newVariant(await variant("release-sync"), { emscriptenModule: { instantiateWasm: em.instantiateWasm } }),
    );
    const g = await em.ready;
    expect(g.suspension).toBe("none");
    const ctx = module.newContext();
    const seen: string[] = [];
    // biome-ignore lint/suspicious/noExplicitAny: a QuickJS handle, typed by quickjs-emscripten's own overloads
    const fn = ctx.newFunction("hostTwice", (h: any) => {
      const out: { value?: Task } = {};
      host.taskManager.getCurrentTask(out);
      seen.push(out.value === host.rootTask ? "root" : (out.value?.name ?? "?"));
      return ctx.newNumber(ctx.getNumber(h) * 2);
    });
    ctx.setProp(ctx.global, "hostTwice", fn);
    fn.dispose();
    const root0 = transitions(host.rootTask.counters());
    const N = 20;
    const tasks: Task<number>[] = [];
    for (let i = 0; i < N; i++) {
      tasks.push(
        host.spawn(
          function* (f) {
            let sum = 0;
            for (let k = 0; k < 3; k++) {
              const h = ctx.unwrapResult(ctx.evalCode(`hostTwice(${i}) + ${k}`));
              sum += ctx.getNumber(h);
              h.dispose();
              yield* f.yield(); // the others run in between: the instance is shared
            }
            return sum;
          },
          { name: `w${i}` },
        ),
      );
    }
    await host.run();
    const counts = new Map<string, number>();
    for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1);
    for (let i = 0; i < N; i++) {
      expect(await tasks[i].result).toBe(6 * i + 3);
      const c = tasks[i].counters();
      // Three host calls (hostTwice) left and entered on this fiber's task, the evals' exports reverse-entered.
      expect(c.leaveRuntime).toBeGreaterThanOrEqual(3);
      expect(c.leaveRuntime).toBe(c.enterRuntime);
      expect(c.reverseEnterRuntime).toBeGreaterThanOrEqual(9);
      expect(c.reverseEnterRuntime).toBe(c.reverseLeaveRuntime);
      expect(counts.get(`w${i}`)).toBe(3);
    }
    expect(counts.get("root")).toBeUndefined();
    expect(transitions(host.rootTask.counters())).toEqual(root0);
    expectBalanced(host);
    ctx.dispose();
  });

  it("call() and suspending() refuse a synchronous build; bad arguments answer E_INVALIDARG", async () => {
    const host = await createHost();
    expect(() => emscriptenGuest(host, "nope" as never)).toThrow(HResultError);
    expect(() => emscriptenGuest({} as never, new Uint8Array(8))).toThrow(/host must be a fiberhost host/);
    const em = emscriptenGuest(host, () => wasmBytes("release-sync"));
    await newQuickJSWASMModuleFromVariant(
      newVariant(await variant("release-sync"), { emscriptenModule: { instantiateWasm: em.instantiateWasm } }),
    );
    await em.ready;
    const t = host.spawn(function* (f) {
      return yield* em.call(f, () => 1);
    });
    const failed = t.result.then(
      () => null,
      (e: unknown) => e,
    );
    await host.run();
    const err = await failed;
    expect(err).toBeInstanceOf(HResultError);
    expect((err as HResultError).hr).toBe(HOST_E_INVALIDOPERATION);
    expect(() => em.suspending(async () => 1)).toThrow(/needs an -sASYNCIFY guest/);
    try {
      em.instantiateWasm({}, () => {});
      expect.unreachable();
    } catch (e) {
      expect((e as HResultError).hr).toBe(E_INVALIDARG);
    }
  });
});

describe("an Emscripten asyncify build given to host.instantiate", () => {
  it('"auto" recognises an Emscripten asyncify build by its own runtime (memory imported, not exported) and keeps its asyncify_* exports unhooked', async () => {
    const host = await createHost();
    const bytes = await wasmBytes("debug-asyncify");
    const module = await WebAssembly.compile(bytes as BufferSource);
    // What Emscripten's glue would give: a function per imported function, its memory.
    const imports: Record<string, Record<string, unknown>> = {};
    for (const d of WebAssembly.Module.imports(module)) {
      imports[d.module] ??= {};
      imports[d.module][d.name] =
        d.kind === "memory"
          ? new WebAssembly.Memory({ initial: 256, maximum: 32768 })
          : d.kind === "function"
            ? () => 0
            : undefined;
    }
    const g = await host.instantiate(bytes, imports);
    expect(g.suspension).toBe("external");
    // Unhooked (only watched: they tell the link where the runtime's rewind is): no crossing counted.
    const before = host.counters().reverseEnterRuntime;
    g.exports.asyncify_stop_rewind();
    expect(host.counters().reverseEnterRuntime).toBe(before);
    // Its other exports are hooked: a crossing on the current task.
    g.exports.emscripten_stack_get_current();
    expect(host.counters().reverseEnterRuntime).toBe(before + 1);
    // Fiberhost's own asyncify cannot drive it (no exported memory); "none" keeps the exports too.
    const none = await host.instantiate(bytes, imports, { suspension: "none" });
    expect(none.exports.asyncify_start_unwind).toBe(none.instance.exports.asyncify_start_unwind);
    expectBalanced(host);
  });
});

/** What Emscripten's glue would give a module: a function per imported function, its memory. */
function glueImports(module: WebAssembly.Module): Record<string, Record<string, unknown>> {
  const imports: Record<string, Record<string, unknown>> = {};
  for (const d of WebAssembly.Module.imports(module)) {
    imports[d.module] ??= {};
    imports[d.module][d.name] =
      d.kind === "memory"
        ? new WebAssembly.Memory({ initial: 256, maximum: 32768 })
        : d.kind === "function"
          ? () => 0
          : undefined;
  }
  return imports;
}

describe("a minified Emscripten asyncify build (QuickJS release-asyncify) given to host.instantiate", () => {
  it('"auto" follows it ("external"): its minified asyncify exports (tb, ub, vb, wb), found by their code, stay unhooked', async () => {
    const host = await createHost();
    const bytes = await wasmBytes("release-asyncify");
    const module = await WebAssembly.compile(bytes as BufferSource);
    const names = WebAssembly.Module.exports(module).map((d) => d.name);
    expect(names.some((n) => n.startsWith("asyncify_"))).toBe(false); // minified: nothing to find by name
    const imports = glueImports(module);
    const g = await host.instantiate(bytes, imports);
    expect(g.suspension).toBe("external");
    // The stops (state := 0, then the data region's bounds check: its zeros pass): no crossing counted.
    const before = host.counters().reverseEnterRuntime;
    g.exports.ub();
    g.exports.wb();
    expect(host.counters().reverseEnterRuntime).toBe(before);
    // Its other exports are hooked: F answers a constant (an address of its data), crossing once.
    expect(typeof g.exports.F()).toBe("number");
    expect(host.counters().reverseEnterRuntime).toBe(before + 1);
    // "none": the controls handed over as they are, the rest hooked.
    const none = await host.instantiate(bytes, imports, { suspension: "none" });
    for (const n of ["tb", "ub", "vb", "wb"]) expect(none.exports[n]).toBe(none.instance.exports[n]);
    expect(none.exports.F).not.toBe(none.instance.exports.F);
    expectBalanced(host);
  });

  it('"auto" refuses a compiled Module of Emscripten\'s shape (its code cannot be read), naming the option to pass', async () => {
    const host = await createHost();
    for (const name of ["release-asyncify", "release-sync"] as const) {
      const module = await WebAssembly.compile((await wasmBytes(name)) as BufferSource);
      const imports = glueImports(module);
      const err = await host.instantiate(module, imports).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HResultError);
      expect((err as HResultError).hr).toBe(E_INVALIDARG);
      expect((err as Error).message).toMatch(
        /options\.suspension 'external' for an -sASYNCIFY build.*'none' for a synchronous one/,
      );
    }
    const asyncModule = await WebAssembly.compile((await wasmBytes("release-asyncify")) as BufferSource);
    const g = await host.instantiate(asyncModule, glueImports(asyncModule), { suspension: "external" });
    expect(g.suspension).toBe("external");
    // The bytes of the synchronous build: "auto" reads its code and finds no asyncify.
    const sync = await host.instantiate(await wasmBytes("release-sync"), glueImports(asyncModule));
    expect(sync.suspension).toBe("none");
    // A compiled Module importing its memory whose names are kept (no asyncify_* among them): no asyncify, "none".
    const named = await WebAssembly.compile(
      wasmModule({
        memoryImport: { module: "env", name: "memory", min: 1 },
        funcs: [{ type: { params: [], results: [I32] }, body: op.i32Const(7) }],
        exports: [{ name: "answer", kind: "func", index: 0 }],
      }) as BufferSource,
    );
    const plain = await host.instantiate(named, { env: { memory: new WebAssembly.Memory({ initial: 1 }) } });
    expect(plain.suspension).toBe("none");
    expect(plain.exports.answer()).toBe(7);
    expectBalanced(host);
  });

  it('through fiberhost/emscripten with suspension "auto": a program awaiting an async host function parks [R, L] and continues on its fiber\'s task', async () => {
    const host = await createHost();
    const em = emscriptenGuest(host, await wasmBytes("release-asyncify"), { instantiate: { suspension: "auto" } });
    const module = await newQuickJSAsyncWASMModuleFromVariant(
      newVariant(await variant("release-asyncify"), { emscriptenModule: { instantiateWasm: em.instantiateWasm } }),
    );
    const guest = await em.ready;
    expect(guest.suspension).toBe("external");
    // biome-ignore lint/suspicious/noExplicitAny: quickjs-emscripten's context, whose handle types em.suspending's wrapper does not carry through
    const ctx: any = module.newContext();
    const gate = deferred<number>();
    const fn = ctx.newAsyncifiedFunction(
      "fetchNum",
      em.suspending(
        // biome-ignore lint/suspicious/noExplicitAny: a QuickJS handle, typed by quickjs-emscripten's own overloads
        (h: any) => gate.promise.then((v) => v + ctx.getNumber(h)),
        (v: number) => ctx.newNumber(v),
      ),
    );
    ctx.setProp(ctx.global, "fetchNum", fn);
    fn.dispose();
    const root0 = transitions(host.rootTask.counters());
    const t = host.spawn(function* (f) {
      return yield* em.call(f, async () => {
        const h = ctx.unwrapResult(await ctx.evalCodeAsync("fetchNum(1) * 10"));
        const v = ctx.getNumber(h);
        h.dispose();
        return v;
      });
    });
    const run = host.run();
    await until(() => t.frames().length === 2);
    expect(frameNames(t.frames())[0]).toBe("R");
    expect(t.mode).toBe("unmanaged");
    gate.resolve(41);
    await run;
    expect(await t.result).toBe(420);
    expect(t.frames()).toEqual([]);
    expect(transitions(host.rootTask.counters())).toEqual(root0);
    expectBalanced(host);
    ctx.dispose();
  });
});
