// QuickJS's asyncify builds (quickjs-emscripten, an Emscripten -sASYNCIFY guest from npm) on
// fiberhost through fiberhost/emscripten: the guest's own glue (Module.Asyncify) suspends it, and
// each call stays its fiber's: continuations on the fiber's task, frames [R, L(target)] while
// parked, a runtime suspension during the parks, an abort of a parked fiber.
import { describe, it, expect } from "vitest";
import { newQuickJSAsyncWASMModuleFromVariant, newVariant } from "quickjs-emscripten-core";
import {
  createHost,
  E_INVALIDARG,
  HResultError,
  S_OK,
  TaskAbortError,
  type Guest,
  type Host,
  type Task,
} from "../src/index.js";
import { emscriptenGuest, type EmscriptenGuest } from "../src/interop/emscripten.js";
import { expectBalanced } from "./support/fibers.js";
import { deferred, frameNames, until } from "./support/guest.js";
import { variant, wasmBytes, type VariantName } from "./support/quickjs.js";

interface Loaded {
  em: EmscriptenGuest;
  // biome-ignore lint/suspicious/noExplicitAny: quickjs-emscripten's handle and module types, which em.suspending's wrapper does not carry through
  module: any;
  guest: Guest;
}

async function load(host: Host, name: VariantName): Promise<Loaded> {
  const em = emscriptenGuest(host, await wasmBytes(name));
  const module = await newQuickJSAsyncWASMModuleFromVariant(
    newVariant(await variant(name), { emscriptenModule: { instantiateWasm: em.instantiateWasm } }),
  );
  const guest = await em.ready;
  expect(guest.suspension).toBe("external");
  return { em, module, guest };
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
      const { em, module, guest } = await load(host, name);
      const ctx = module.newContext();
      const gates: { resolve(v: number): void }[] = [];
      const fn = ctx.newAsyncifiedFunction(
        "fetchNum",
        em.suspending(
          // biome-ignore lint/suspicious/noExplicitAny: quickjs-emscripten's handle and module types, which em.suspending's wrapper does not carry through
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
      let settled = false;
      void run.then(() => (settled = true));
      await until(() => gates.length === 1);
      const [r, l] = frameNames(t.frames());
      expect(r).toBe("R");
      expect(Object.values(guest.targets).map((x) => `L${x.toString(16)}`)).toContain(l);
      expect(t.frames().length).toBe(2);
      expect(t.mode).toBe("unmanaged");
      for (let k = 0; k < 5; k++) await new Promise((res) => setTimeout(res, 1));
      expect(settled).toBe(false); // a continuation is due: run() waits for it
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

    it("many fibers on one instance take turns (FIFO): each answer right, each fiber's crossings on its own task", async () => {
      const host = await createHost();
      const { em, module } = await load(host, name);
      const ctx = module.newContext();
      const started: number[] = [];
      const fn = ctx.newAsyncifiedFunction(
        "fetchNum",
        em.suspending(
          // biome-ignore lint/suspicious/noExplicitAny: quickjs-emscripten's handle and module types, which em.suspending's wrapper does not carry through
          (h: any) => new Promise<number>((resolve) => setTimeout(() => resolve(ctx.getNumber(h) * 2), 1)),
          (v: number) => ctx.newNumber(v),
        ),
      );
      ctx.setProp(ctx.global, "fetchNum", fn);
      fn.dispose();
      const root0 = transitions(host.rootTask.counters());
      const N = 8;
      const tasks: Task<number>[] = [];
      for (let i = 0; i < N; i++) {
        tasks.push(
          host.spawn(function* (f) {
            return yield* em.call(f, async () => {
              started.push(i);
              const r = await ctx.evalCodeAsync(
                `(() => { let s = 0; for (let k = 1; k <= 3; k++) s += fetchNum(${i} + k); return s; })()`,
              );
              const h = ctx.unwrapResult(r);
              const v = ctx.getNumber(h);
              h.dispose();
              return v;
            });
          }),
        );
      }
      await host.run();
      for (let i = 0; i < N; i++) {
        expect(await tasks[i].result).toBe(2 * (3 * i + 6));
        const c = tasks[i].counters();
        expect(c.leaveRuntime).toBeGreaterThanOrEqual(3);
        expect(c.leaveRuntime).toBe(c.enterRuntime);
        expect(c.reverseEnterRuntime).toBe(c.reverseLeaveRuntime);
        expect(tasks[i].frames()).toEqual([]);
      }
      expect(started).toEqual([...Array(N).keys()]);
      expect(transitions(host.rootTask.counters())).toEqual(root0);
      expectBalanced(host);
      ctx.dispose();
    });

    it("a runtime suspension during the parks holds every continuation until the resume; all finish", async () => {
      const host = await createHost();
      const M = 3;
      const loaded = await Promise.all(Array.from({ length: M }, () => load(host, name)));
      const gates: { resolve(v: number): void }[] = [];
      const ctxs = loaded.map(({ em, module }) => {
        const ctx = module.newContext();
        const fn = ctx.newAsyncifiedFunction(
          "fetchNum",
          em.suspending(
            () => {
              const d = deferred<number>();
              gates.push(d);
              return d.promise;
            },
            (v: number) => ctx.newNumber(v),
          ),
        );
        ctx.setProp(ctx.global, "fetchNum", fn);
        fn.dispose();
        return ctx;
      });
      const tasks = loaded.map(({ em }, i) =>
        host.spawn(function* (f) {
          return yield* em.call(f, async () => {
            const h = ctxs[i].unwrapResult(await ctxs[i].evalCodeAsync("fetchNum() + fetchNum()"));
            const v = ctxs[i].getNumber(h);
            h.dispose();
            return v;
          });
        }),
      );
      const run = host.run();
      await until(() => gates.length === M);
      expect(tasks.map((t) => t.frames().length)).toEqual(tasks.map(() => 2));
      expect(host.suspendRuntime()).toBe(S_OK);
      const before = host.counters();
      for (const [i, g] of gates.entries()) g.resolve(i + 1);
      for (let k = 0; k < 20; k++) await new Promise((r) => setTimeout(r, 1));
      // Held: no continuation ran (no transition at all), every fiber still parked inside its guest.
      expect(transitions(host.counters())).toEqual(transitions(before));
      expect(tasks.map((t) => t.frames().length)).toEqual(tasks.map(() => 2));
      expect(gates.length).toBe(M);
      expect(host.resumeRuntime()).toBe(S_OK);
      await until(() => gates.length === 2 * M);
      for (const [i, g] of gates.slice(M).entries()) g.resolve(10 * (i + 1));
      await run;
      for (let i = 0; i < M; i++) {
        expect(await tasks[i].result).toBe(i + 1 + 10 * (i + 1));
        expect(tasks[i].frames()).toEqual([]);
      }
      expectBalanced(host);
    });

    it("an abort of a parked fiber reaches its host function (signal, rejection) and unwinds the guest; the others finish", async () => {
      const host = await createHost();
      const { em, module } = await load(host, name);
      const ctx = module.newContext();
      const signals: AbortSignal[] = [];
      const pending: { resolve(v: number): void }[] = [];
      const fn = ctx.newAsyncifiedFunction(
        "fetchNum",
        em.suspending(
          // biome-ignore lint/suspicious/noExplicitAny: quickjs-emscripten's handle and module types, which em.suspending's wrapper does not carry through
          (h: any) => {
            signals.push(em.signal!);
            const x = ctx.getNumber(h);
            if (x === 0) {
              const d = deferred<number>();
              pending.push(d);
              return d.promise; // never answered: only the abort ends it
            }
            return Promise.resolve(x * 3);
          },
          (v: number) => ctx.newNumber(v),
        ),
      );
      ctx.setProp(ctx.global, "fetchNum", fn);
      fn.dispose();
      const program = (x: number) => async () => {
        const r = await ctx.evalCodeAsync(`fetchNum(${x}) + 1`);
        if (r.error) {
          const e = ctx.dump(r.error);
          r.error.dispose();
          return `error: ${e?.message ?? e}`;
        }
        const v = ctx.getNumber(r.value);
        r.value.dispose();
        return v;
      };
      const victim = host.spawn(function* (f) {
        return yield* em.call(f, program(0));
      });
      const others = [1, 2, 3].map((x) =>
        host.spawn(function* (f) {
          return yield* em.call(f, program(x));
        }),
      );
      const run = host.run();
      await until(() => pending.length === 1);
      expect(victim.frames().length).toBe(2);
      victim.abort("stop");
      await run;
      expect(signals[0].aborted).toBe(true);
      const err = await victim.result.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TaskAbortError);
      expect(victim.frames()).toEqual([]);
      expect(await Promise.all(others.map((t) => t.result))).toEqual([4, 7, 10]);
      expectBalanced(host);
      ctx.dispose();
    });

    it("a rejection of the host function is thrown at its call site in the guest (the program catches it)", async () => {
      const host = await createHost();
      const { em, module } = await load(host, name);
      const ctx = module.newContext();
      const fn = ctx.newAsyncifiedFunction(
        "fails",
        em.suspending(
          () => Promise.reject(new Error("no route")),
          () => ctx.undefined,
        ),
      );
      ctx.setProp(ctx.global, "fails", fn);
      fn.dispose();
      const t = host.spawn(function* (f) {
        return yield* em.call(f, async () => {
          const h = ctx.unwrapResult(
            await ctx.evalCodeAsync(
              `(() => { try { fails(); return "no"; } catch (e) { return "caught: " + e.message; } })()`,
            ),
          );
          const v = ctx.getString(h);
          h.dispose();
          return v;
        });
      });
      await host.run();
      expect(await t.result).toBe("caught: no route");
      expect(t.frames()).toEqual([]);
      expectBalanced(host);
      ctx.dispose();
    });

    it("an abort of a fiber waiting for its turn takes it out of the queue; the others keep their order", async () => {
      const host = await createHost();
      const { em, module } = await load(host, name);
      const ctx = module.newContext();
      const gates: { resolve(v: number): void }[] = [];
      const fn = ctx.newAsyncifiedFunction(
        "wait",
        em.suspending(
          () => {
            const d = deferred<number>();
            gates.push(d);
            return d.promise;
          },
          (v: number) => ctx.newNumber(v),
        ),
      );
      ctx.setProp(ctx.global, "wait", fn);
      fn.dispose();
      const order: string[] = [];
      const make = (label: string) =>
        host.spawn(function* (f) {
          return yield* em.call(f, async () => {
            order.push(label);
            const h = ctx.unwrapResult(await ctx.evalCodeAsync("wait()"));
            const v = ctx.getNumber(h);
            h.dispose();
            return v;
          });
        });
      const a = make("a");
      const b = make("b");
      const c = make("c");
      const bFailed = b.result.then(
        () => null,
        (e: unknown) => e,
      );
      const run = host.run();
      await until(() => gates.length === 1);
      expect(b.frames()).toEqual([]); // waiting for its turn: not inside the guest
      b.abort("not needed");
      await until(() => b.done);
      gates[0].resolve(1);
      await until(() => gates.length === 2);
      gates[1].resolve(3);
      await run;
      expect(order).toEqual(["a", "c"]);
      expect(await a.result).toBe(1);
      expect(await c.result).toBe(3);
      expect(await bFailed).toBeInstanceOf(TaskAbortError);
      expectBalanced(host);
      ctx.dispose();
    });

    it("bad arguments answer HResultError(E_INVALIDARG); another host's fiber is refused", async () => {
      const host = await createHost();
      const other = await createHost();
      const { em } = await load(host, name);
      expect(() => em.suspending("x" as never)).toThrow(HResultError);
      expect(() => em.suspending(async () => 1, 5 as never)).toThrow(/finish must be a function/);
      const results: unknown[] = [];
      const t = other.spawn(function* (f) {
        try {
          em.call(f, async () => 1);
        } catch (e) {
          results.push((e as HResultError).hr);
        }
        try {
          em.call(f, 7 as never);
        } catch (e) {
          results.push((e as HResultError).hr);
        }
        yield* f.yield();
      });
      await other.run();
      await t.result;
      expect(results).toEqual([E_INVALIDARG, E_INVALIDARG]);
    });

    it("another fiber's synchronous calls into the instance while a call is parked cross on its own task", async () => {
      const host = await createHost();
      const { em, module } = await load(host, name);
      const ctx = module.newContext();
      const gate = deferred<number>();
      let asked = 0;
      const fn = ctx.newAsyncifiedFunction(
        "wait",
        em.suspending(
          () => {
            asked++;
            return gate.promise;
          },
          (v: number) => ctx.newNumber(v),
        ),
      );
      ctx.setProp(ctx.global, "wait", fn);
      fn.dispose();
      const a = host.spawn(function* (f) {
        return yield* em.call(f, async () => {
          const h = ctx.unwrapResult(await ctx.evalCodeAsync("wait() + 1"));
          const v = ctx.getNumber(h);
          h.dispose();
          return v;
        });
      });
      const run = host.run();
      await until(() => asked === 1);
      const parked = a.frames();
      const aBefore = a.counters().reverseEnterRuntime;
      const root0 = transitions(host.rootTask.counters());
      const b = host.spawn(function* (f) {
        yield* f.yield();
        const h = ctx.newNumber(41);
        const v = ctx.getNumber(h);
        h.dispose();
        return v;
      });
      await until(() => b.done);
      expect(await b.result).toBe(41);
      expect(b.counters().reverseEnterRuntime).toBeGreaterThanOrEqual(2);
      expect(b.counters().reverseEnterRuntime).toBe(b.counters().reverseLeaveRuntime);
      expect(a.frames()).toEqual(parked);
      expect(a.counters().reverseEnterRuntime).toBe(aBefore);
      expect(transitions(host.rootTask.counters())).toEqual(root0);
      gate.resolve(6);
      await run;
      expect(await a.result).toBe(7);
      expectBalanced(host);
      ctx.dispose();
    });
  });
}
