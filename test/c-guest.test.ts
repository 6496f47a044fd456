// A real C guest (examples/c-guest/guest.c: Debian's clang for wasm32-wasi, wasi-libc, binaryen's
// asyncify) with a shadow stack in linear memory, its WASI imports hooked (node:wasi in Node, a
// shim in Chromium). Fibers parked inside one instance resume in any order and each keeps its
// own stack: every answer equals a synchronous run's and the stack pointer ends where it began.
// The same specification runs on both suspension paths: fiberhost's asyncify (the asyncified
// build, both projects) and JSPI (clang's plain build, where the engine has JSPI: Chromium).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { HResultError, TaskAbortError, S_OK, type Host, type Task } from "../src/index.js";
import { expectBalanced, rejection, virtualHost } from "./support/fibers.js";
import { deferred, hasJspi, until, type Deferred } from "./support/guest.js";
import { loadCGuest, type CGuestExports, type LoadedCGuest } from "./support/c-guest.js";
import { checkProperty, runs } from "./property/support.js";

/** host.pause answers through promises the test settles, one by one, in the order it picks. */
function pausing(c: LoadedCGuest): { pending: { v: number; d: Deferred<number> }[] } {
  const pending: { v: number; d: Deferred<number> }[] = [];
  c.setPause((v) => {
    const d = deferred<number>();
    pending.push({ v, d });
    return d.promise;
  });
  return { pending };
}

const sp = (g: { exports: CGuestExports }) => g.exports.__stack_pointer!.value as number;

type Path = "asyncify" | "jspi";

/** The C guest on a suspension path: the asyncified build, or the plain one suspended through JSPI. */
function loadOn(
  host: Host,
  path: Path,
  kind: "exported" | "hidden" | "emscripten" = "exported",
  options: Parameters<typeof loadCGuest>[2] = {},
): Promise<LoadedCGuest> {
  return path === "jspi"
    ? loadCGuest(host, kind, { suspension: "jspi", ...options }, "plain")
    : loadCGuest(host, kind, options);
}

/** The issue's scenario: A keep(111) parks, B keep(222) parks, A returns, C uses 32 bytes, B resumes. */
async function issueScenario(host: Host, c: LoadedCGuest): Promise<{ a: number; b: number; c: number }> {
  const { guest } = c;
  const { pending } = pausing(c);
  const A = host.spawn(function* (f) {
    return yield* f.call(guest.exports.keep, 111);
  });
  const B = host.spawn(function* (f) {
    return yield* f.call(guest.exports.keep, 222);
  });
  const run = host.run();
  await until(() => pending.length === 2, "A and B parked");
  pending[0].d.resolve(0); // A resumes and returns
  await until(() => A.done, "A returned");
  c.setPause((v) => v);
  const C = host.spawn(function* (f) {
    return yield* f.call(guest.exports.scratch, 333); // an ordinary call: 32 bytes of stack
  });
  await until(() => C.done, "C returned");
  pending[1].d.resolve(0); // B resumes
  await run;
  return { a: (await A.result) as number, b: (await B.result) as number, c: (await C.result) as number };
}

function perFiber(path: Path): void {
  it("fiberhost finds the exported __stack_pointer: guest.stack is 'per-fiber'", async () => {
    const host = await virtualHost();
    const c = await loadOn(host, path);
    expect(c.guest.suspension).toBe(path);
    expect(c.guest.stack).toBe("per-fiber");
  });

  it("the issue's scenario: A keep(111) parks, B keep(222) parks, A returns, C uses 32 bytes; B answers 222 and the stack pointer is back", async () => {
    const host = await virtualHost();
    const c = await loadOn(host, path);
    const before = sp(c.guest);
    expect(await issueScenario(host, c)).toEqual({ a: 111, b: 222, c: 333 });
    expect(sp(c.guest)).toBe(before);
    expectBalanced(host);
  });

  it("without a kept stack (options.stack 'none') the same scenario corrupts: B answers C's value and the pointer stays off", async () => {
    // What every guest with a linear-memory stack got before: the control that shows the test can fail.
    const host = await virtualHost();
    const c = await loadOn(host, path, "exported", { stack: "none" });
    expect(c.guest.stack).toBe("none");
    const before = sp(c.guest);
    const got = await issueScenario(host, c);
    expect(got.b).toBe(333);
    expect(sp(c.guest)).not.toBe(before);
  });

  it("a struct with a string on the stack, parked and resumed out of order by many fibers, is each fiber's own", async () => {
    const host = await virtualHost();
    const c = await loadOn(host, path);
    const before = sp(c.guest);
    const { pending } = pausing(c);
    const tasks: Task[] = [];
    for (let i = 0; i < 8; i++)
      tasks.push(
        host.spawn(function* (f) {
          return yield* f.call(c.guest.exports.label, i * 100 + 7);
        }),
      );
    const run = host.run();
    await until(() => pending.length === 8);
    for (const i of [3, 0, 7, 5, 1, 6, 2, 4]) pending[i].d.resolve(i);
    await run;
    const got = await Promise.all(tasks.map((t) => t.result));
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => i * 100 + 7 + i));
    expect(sp(c.guest)).toBe(before);
    expectBalanced(host);
  });

  it("many fibers in deep recursions and loops that park, resumed in random orders, answer what a synchronous run answers (fast-check, seeded)", async () => {
    type Job = { kind: "deep" | "steps" | "label"; a: number; b: number };
    const job: fc.Arbitrary<Job> = fc.oneof(
      fc.record({
        kind: fc.constant("deep" as const),
        a: fc.integer({ min: 0, max: 40 }),
        b: fc.integer({ min: -999, max: 999 }),
      }),
      fc.record({
        kind: fc.constant("steps" as const),
        a: fc.integer({ min: 1, max: 4 }),
        b: fc.integer({ min: 0, max: 9999 }),
      }),
      fc.record({ kind: fc.constant("label" as const), a: fc.integer({ min: 0, max: 99999 }), b: fc.constant(0) }),
    );
    const answer = (v: number) => (v * 7) ^ 0x5a5a;
    const call = (e: CGuestExports, j: Job): number =>
      j.kind === "deep" ? e.deep(j.a, j.b) : j.kind === "steps" ? e.steps(j.a, j.b) : e.label(j.a);
    const host = await virtualHost();
    const c = await loadOn(host, path);
    const before = sp(c.guest);
    await checkProperty(
      fc.asyncProperty(
        fc.array(job, { minLength: 1, maxLength: 16 }),
        fc.infiniteStream(fc.nat()),
        async (jobs, picks) => {
          // The synchronous run: host.pause answers at once, from the root task.
          c.setPause(answer);
          const expected = jobs.map((j) => call(c.guest.exports, j));
          expect(sp(c.guest)).toBe(before);
          const pending: { v: number; d: Deferred<number> }[] = [];
          c.setPause((v) => {
            const d = deferred<number>();
            pending.push({ v, d });
            return d.promise;
          });
          const tasks = jobs.map((j) =>
            host.spawn(function* (f) {
              return yield* f.call(
                j.kind === "deep"
                  ? c.guest.exports.deep
                  : j.kind === "steps"
                    ? c.guest.exports.steps
                    : c.guest.exports.label,
                j.a,
                j.b,
              );
            }),
          );
          const run = host.run();
          const pick = picks[Symbol.iterator]();
          while (!tasks.every((t) => t.done)) {
            await until(() => pending.length > 0 || tasks.every((t) => t.done), "a parked fiber");
            if (pending.length === 0) break;
            const [p] = pending.splice(pick.next().value % pending.length, 1);
            p.d.resolve(answer(p.v));
            await Promise.resolve();
          }
          await run;
          expect(await Promise.all(tasks.map((t) => t.result))).toEqual(expected);
          expect(sp(c.guest)).toBe(before);
        },
      ),
      runs(25),
    );
    expectBalanced(host);
  });

  it("an exception thrown through the guest (its epilogues skipped) puts the stack pointer back where the call found it", async () => {
    const host = await virtualHost();
    const c = await loadOn(host, path);
    const before = sp(c.guest);
    c.setPause(() => {
      throw new Error("pause failed");
    });
    const t = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.deep, 10, 1);
    });
    const result = t.result;
    await host.run();
    expect(((await rejection(result)) as Error).message).toBe("pause failed");
    expect(sp(c.guest)).toBe(before);
    expectBalanced(host);
  });

  it("an abort of a parked fiber drops its frames; the others resume with theirs and the pointer is back", async () => {
    const host = await virtualHost();
    const c = await loadOn(host, path);
    const before = sp(c.guest);
    const { pending } = pausing(c);
    const a = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.deep, 5, 3);
    });
    const b = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.label, 42);
    });
    const run = host.run();
    await until(() => pending.length === 2);
    expect(a.abort()).toBe(S_OK);
    await until(() => a.done);
    pending[1].d.resolve(1);
    await run;
    expect(await rejection(a.result)).toBeInstanceOf(TaskAbortError);
    expect(await b.result).toBe(43);
    expect(sp(c.guest)).toBe(before);
    expectBalanced(host);
  });

  it("a rejected promise unwinds its parked call without its frames; the others resume with theirs and the pointer is back", async () => {
    const host = await virtualHost();
    const c = await loadOn(host, path);
    const before = sp(c.guest);
    const { pending } = pausing(c);
    const tasks = [3, 4, 5].map((seed) =>
      host.spawn(function* (f) {
        return yield* f.call(c.guest.exports.deep, 6, seed);
      }),
    );
    const run = host.run();
    await until(() => pending.length === 3);
    pending[1].d.reject(new Error("pause rejected"));
    await until(() => tasks[1].done);
    pending[2].d.resolve(7);
    pending[0].d.resolve(7);
    await run;
    expect(((await rejection(tasks[1].result)) as Error).message).toBe("pause rejected");
    c.setPause(() => 7);
    expect([await tasks[0].result, await tasks[2].result]).toEqual([
      c.guest.exports.deep(6, 3),
      c.guest.exports.deep(6, 5),
    ]);
    expect(sp(c.guest)).toBe(before);
    expectBalanced(host);
  });

  it("a resumed call that throws (its epilogues skipped) while another resumes in the same turn: the other keeps its frames", async () => {
    const host = await virtualHost();
    const c = await loadOn(host, path);
    const before = sp(c.guest);
    const pending: { v: number; d: Deferred<number> }[] = [];
    c.setPause((v) => {
      if (v === 101) throw new Error("second pause of A failed"); // A's second park: seed 100 + 1
      const d = deferred<number>();
      pending.push({ v, d });
      return d.promise;
    });
    const A = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.steps, 2, 100);
    });
    const B = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.keep, 222);
    });
    const run = host.run();
    await until(() => pending.length === 2, "A and B parked");
    pending[0].d.resolve(0); // A resumes, parks again: its import throws at once
    pending[1].d.resolve(0); // B resumes in the same turn
    await run;
    expect(((await rejection(A.result)) as Error).message).toBe("second pause of A failed");
    expect(await B.result).toBe(222);
    expect(sp(c.guest)).toBe(before);
    expectBalanced(host);
  });

  it("answers given at once and through promises, mixed, in loops that park many times, resumed in random orders, are each fiber's own", async () => {
    // A plain answer: asyncify does not unwind; JSPI's engine suspends all the same (the guest
    // goes on from a microtask), so its frames go out and back as for a promise.
    const host = await virtualHost();
    const c = await loadOn(host, path);
    const before = sp(c.guest);
    const seeds = [11, 22, 33, 44, 55, 66];
    c.setPause((v) => v * 5);
    const expected = seeds.map((seed) => c.guest.exports.steps(6, seed));
    const pending: { v: number; d: Deferred<number> }[] = [];
    c.setPause((v) => {
      if (v % 2 === 0) return v * 5;
      const d = deferred<number>();
      pending.push({ v, d });
      return d.promise;
    });
    const tasks = seeds.map((seed) =>
      host.spawn(function* (f) {
        return yield* f.call(c.guest.exports.steps, 6, seed);
      }),
    );
    const run = host.run();
    let k = 7;
    while (!tasks.every((t) => t.done)) {
      await until(() => pending.length > 0 || tasks.every((t) => t.done), "a parked fiber");
      if (pending.length === 0) break;
      k = (k * 31 + 17) % 1009;
      const [p] = pending.splice(k % pending.length, 1);
      p.d.resolve(p.v * 5);
      await Promise.resolve();
    }
    await run;
    expect(await Promise.all(tasks.map((t) => t.result))).toEqual(expected);
    expect(sp(c.guest)).toBe(before);
    expectBalanced(host);
  });

  // JSPI resumes a guest from a microtask, never under a running call: its own test is below.
  it.runIf(path === "asyncify")(
    "a resume while a call into the guest is running further up fails balanced instead of writing over its frames",
    async () => {
      // The one way to resume a parked call with guest frames live below its entry: an import of
      // the same instance that runs the scheduler. The parked call is abandoned with an error.
      const host = await virtualHost();
      const c = await loadOn(host, path);
      const before = sp(c.guest);
      const gate = deferred<number>();
      c.setPause(() => gate.promise);
      const t = host.spawn(function* (f) {
        return yield* f.call(c.guest.exports.keep, 5);
      });
      host.runUntilIdle(); // t parks inside the guest
      expect(t.getState()).toBe("waiting");
      gate.resolve(0);
      await until(() => t.getState() === "ready", "t woken");
      let nested = "not run";
      c.setPause((v) => {
        host.runUntilIdle(); // t resumes here, under this call's frames
        nested = t.done ? "t ended" : "t still parked";
        return v;
      });
      expect(c.guest.exports.deep(3, 1)).toBe(c.guest.exports.deep(3, 1));
      expect(nested).toBe("t ended");
      const err = await rejection(t.result);
      expect(err).toBeInstanceOf(HResultError);
      expect((err as Error).message).toMatch(/stack is in use/);
      expect(sp(c.guest)).toBe(before);
      expectBalanced(host);
    },
  );
}

function serial(path: Path): void {
  it("guest.stack is 'serial'; a second fiber's f.call waits (FIFO) while the first is parked, and both answer right", async () => {
    const host = await virtualHost();
    const c = await loadOn(host, path, "hidden");
    expect(c.guest.stack).toBe("serial");
    const base = c.guest.exports.stack_now();
    const { pending } = pausing(c);
    const order: string[] = [];
    const mk = (name: string, v: number) =>
      host.spawn(function* (f) {
        order.push(`${name} calls`);
        const r = yield* f.call(c.guest.exports.keep, v);
        order.push(`${name} returned ${r}`);
        return r;
      });
    const A = mk("A", 111);
    const B = mk("B", 222);
    const C = mk("C", 333);
    const run = host.run();
    await until(() => pending.length === 1);
    const waitingOn = (t: Task) => host.dump().find((x) => x.id === t.id)?.waitingOn;
    await until(() => B.getState() === "waiting" && C.getState() === "waiting");
    expect(waitingOn(B)).toMatch(/another fiber's parked call/);
    expect(B.frames()).toEqual([]); // it has not entered the guest
    pending[0].d.resolve(0);
    await until(() => pending.length === 2);
    pending[1].d.resolve(0);
    await until(() => pending.length === 3);
    pending[2].d.resolve(0);
    await run;
    expect([await A.result, await B.result, await C.result]).toEqual([111, 222, 333]);
    expect(order).toEqual(["A calls", "B calls", "C calls", "A returned 111", "B returned 222", "C returned 333"]);
    expect(c.guest.exports.stack_now()).toBe(base);
    expectBalanced(host);
  });

  it("an abort of a fiber waiting its turn takes it out of the line; the next one goes on", async () => {
    const host = await virtualHost();
    const c = await loadOn(host, path, "hidden");
    const { pending } = pausing(c);
    const A = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.keep, 1);
    });
    const B = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.keep, 2);
    });
    const C = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.keep, 3);
    });
    const run = host.run();
    await until(() => pending.length === 1 && B.getState() === "waiting" && C.getState() === "waiting");
    expect(B.abort()).toBe(S_OK);
    await until(() => B.done);
    pending[0].d.resolve(0);
    await until(() => pending.length === 2);
    expect(pending[1].v).toBe(3);
    pending[1].d.resolve(0);
    await run;
    expect(await rejection(B.result)).toBeInstanceOf(TaskAbortError);
    expect([await A.result, await C.result]).toEqual([1, 3]);
    expectBalanced(host);
  });

  it("a call whose first import answers at once holds the instance too: another fiber waits until it returns", async () => {
    // asyncify does not park on a plain answer; JSPI's engine suspends the guest all the same,
    // so that call is inside the instance from then on and must hold it.
    const host = await virtualHost();
    const c = await loadOn(host, path, "hidden");
    const base = c.guest.exports.stack_now();
    const pending: { v: number; d: Deferred<number> }[] = [];
    c.setPause((v) => {
      if (v === 100) return 5; // A's first pause: at once
      const d = deferred<number>();
      pending.push({ v, d });
      return d.promise;
    });
    const A = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.steps, 2, 100);
    });
    const B = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.keep, 222);
    });
    const run = host.run();
    await until(() => pending.length === 1 && B.getState() === "waiting", "A parked at its second pause");
    expect(pending.map((p) => p.v)).toEqual([101]); // B has not entered the guest
    pending[0].d.resolve(6);
    await until(() => pending.length === 2, "B parked");
    pending[1].d.resolve(0);
    await run;
    c.setPause((v) => (v === 100 ? 5 : 6));
    expect([await A.result, await B.result]).toEqual([c.guest.exports.steps(2, 100), 222]);
    expect(c.guest.exports.stack_now()).toBe(base);
    expectBalanced(host);
  });

  it("an abort of the parked fiber passes the instance to the next in line", async () => {
    const host = await virtualHost();
    const c = await loadOn(host, path, "hidden");
    const { pending } = pausing(c);
    const A = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.label, 10);
    });
    const B = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.label, 20);
    });
    const run = host.run();
    await until(() => pending.length === 1 && B.getState() === "waiting");
    expect(A.abort()).toBe(S_OK);
    await until(() => pending.length === 2);
    pending[1].d.resolve(5);
    await run;
    expect(await rejection(A.result)).toBeInstanceOf(TaskAbortError);
    expect(await B.result).toBe(25);
    expectBalanced(host);
  });
}

describe("a C guest's stack, per fiber (its __stack_pointer exported): fiberhost's asyncify", () =>
  perFiber("asyncify"));
// JSPI keeps a parked call's wasm frames on the engine's stacks, but its linear-memory frames are
// shared all the same: fiberhost moves them as under asyncify. (Chromium has JSPI; Node 20 not.)
describe.runIf(hasJspi)("a C guest's stack, per fiber (its __stack_pointer exported): JSPI, the plain build", () => {
  perFiber("jspi");

  it("a resume that finds the stack in use where its frames go back abandons the call with an error, balanced", async () => {
    // Under JSPI the frames go back where the guest resumes, from a microtask: nothing of the
    // guest runs then, so the test takes the stack itself (64 bytes below where A entered).
    const host = await virtualHost();
    const c = await loadOn(host, "jspi");
    const before = sp(c.guest);
    const { pending } = pausing(c);
    const A = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.keep, 5);
    });
    const run = host.run();
    await until(() => pending.length === 1, "A parked");
    expect(sp(c.guest)).toBe(before); // its frames out, the pointer where A found it
    c.guest.exports.__stack_pointer!.value = before - 64;
    pending[0].d.resolve(0);
    await run;
    const err = await rejection(A.result);
    expect(err).toBeInstanceOf(HResultError);
    expect((err as Error).message).toMatch(/f\.call\(keep\) in fiber .*stack is in use.*abandoned/);
    expect(sp(c.guest)).toBe(before);
    expectBalanced(host);
  });
});

describe("a C guest's stack it cannot reach (the usual clang output): one parked call at a time, asyncify", () =>
  serial("asyncify"));
describe.runIf(hasJspi)(
  "a C guest's stack it cannot reach (the usual clang output): one parked call at a time, JSPI",
  () => serial("jspi"),
);

describe("the C guest's WASI imports", () => {
  it("are hooked crossings: printf from a fiber's f.call reaches fd_write on the fiber's task", async () => {
    const host = await virtualHost();
    const c = await loadCGuest(host);
    expect(c.guest.hooked["wasi_snapshot_preview1.fd_write"]).toBe(true);
    const t = host.spawn(function* (f) {
      return yield* f.call(c.guest.exports.hello, 7);
    });
    await host.run();
    expect(await t.result).toBe("c-guest: hello 7\n".length);
    expect(await c.output()).toContain("c-guest: hello 7\n");
    const k = t.counters();
    expect(k.reverseEnterRuntime).toBe(1);
    expect(k.leaveRuntime).toBeGreaterThanOrEqual(1);
    expect(k.leaveRuntime).toBe(k.enterRuntime);
    expectBalanced(host);
  });
});
