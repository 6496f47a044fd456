// An Emscripten-built synchronous guest from npm (QuickJS, quickjs-emscripten's release-sync
// variant) hooked through Emscripten's instantiateWasm by fiberhost/emscripten: many fibers share
// one instance, and each fiber's crossings (its evals, the host functions the guest calls back)
// are counted on its own task.
import { describe, it, expect } from "vitest";
import { newQuickJSWASMModuleFromVariant, newVariant } from "quickjs-emscripten-core";
import { createHost, E_INVALIDARG, HOST_E_INVALIDOPERATION, HResultError, type Task } from "../src/index.js";
import { emscriptenGuest } from "../src/interop/emscripten.js";
import { expectBalanced } from "./support/fibers.js";
import { variant, wasmBytes } from "./support/quickjs.js";

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
