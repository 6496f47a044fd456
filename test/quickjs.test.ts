// QuickJS's asyncify builds (quickjs-emscripten, an Emscripten -sASYNCIFY guest from npm) on
// fiberhost through fiberhost/emscripten: the guest's own glue (Module.Asyncify) suspends it, and
// each call stays its fiber's: continuations on the fiber's task, frames [R, L(target)] while
// parked, a runtime suspension during the parks, an abort of a parked fiber.
import { describe, it, expect } from "vitest";
import { newQuickJSAsyncWASMModuleFromVariant, newVariant } from "quickjs-emscripten-core";
import { createHost, type Host } from "../src/index.js";
import { emscriptenGuest, type EmscriptenGuest } from "../src/interop/emscripten.js";
import { expectBalanced } from "./support/fibers.js";
import { deferred, frameNames, until } from "./support/guest.js";
import { variant, wasmBytes, type VariantName } from "./support/quickjs.js";

interface Loaded {
  em: EmscriptenGuest;
  module: any;
}

async function load(host: Host, name: VariantName): Promise<Loaded> {
  const em = emscriptenGuest(host, await wasmBytes(name));
  const module = await newQuickJSAsyncWASMModuleFromVariant(
    newVariant(await variant(name), { emscriptenModule: { instantiateWasm: em.instantiateWasm } }),
  );
  const g = await em.ready;
  expect(g.suspension).toBe("external");
  return { em, module };
}

const transitions = (c: {
  reverseEnterRuntime: number;
  leaveRuntime: number;
  enterRuntime: number;
  reverseLeaveRuntime: number;
}) => [c.reverseEnterRuntime, c.leaveRuntime, c.enterRuntime, c.reverseLeaveRuntime];

for (const name of ["release-asyncify", "debug-asyncify"] as const) {
  describe(`QuickJS ${name} through fiberhost/emscripten`, () => {
    it("a fiber's program awaiting an async host function: parked [R, L], continued on the fiber's task", async () => {
      const host = await createHost();
      const { em, module } = await load(host, name);
      const ctx = module.newContext();
      const gates: { resolve(v: number): void }[] = [];
      const fn = ctx.newAsyncifiedFunction(
        "fetchNum",
        em.suspending(
          (h: any) => {
            const d = deferred<number>();
            gates.push(d);
            return d.promise.then((v) => v + ctx.getNumber(h));
          },
          (v: number) => ctx.newNumber(v),
        ),
      );
      ctx.setProp(ctx.global, "fetchNum", fn);
      fn.dispose();
      const root0 = transitions(host.rootTask.counters());
      const t = host.spawn(function* (f) {
        return yield* em.call(f, async () => {
          const r = await ctx.evalCodeAsync("fetchNum(1) + fetchNum(2) * 10");
          const h = ctx.unwrapResult(r);
          const v = ctx.getNumber(h);
          h.dispose();
          return v;
        });
      });
      const run = host.run();
      await until(() => gates.length === 1);
      expect(frameNames(t.frames()).slice(0, 1)).toEqual(["R"]);
      expect(t.frames().length).toBe(2);
      expect(t.mode).toBe("unmanaged");
      gates[0].resolve(100);
      await until(() => gates.length === 2);
      expect(t.frames().length).toBe(2);
      gates[1].resolve(200);
      await run;
      expect(await t.result).toBe(101 + 202 * 10);
      expect(t.frames()).toEqual([]);
      expect(transitions(host.rootTask.counters())).toEqual(root0);
      const c = t.counters();
      expect(c.reverseEnterRuntime).toBeGreaterThan(2);
      expect(c.leaveRuntime).toBeGreaterThanOrEqual(2);
      expectBalanced(host);
      ctx.dispose();
    });
  });
}
