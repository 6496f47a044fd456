// Blocking inside wasm: an f.call on a guest export parks its fiber inside the guest while a
// suspending import's promise is pending (frames […, R, L(target)], unmanaged mode), other fibers
// run, and the guest goes on where it stopped, with counters as if the call had been synchronous.
// The same specification runs on both suspension paths: asyncify (Node and Chromium) and JSPI
// (where the engine has WebAssembly.Suspending: Chromium, not Node 20).
import { describe, it, expect } from "vitest";
import {
  HResultError,
  TaskAbortError,
  E_INVALIDARG,
  E_NOTIMPL,
  HOST_E_CLRNOTAVAILABLE,
  HOST_E_INVALIDOPERATION,
  HOST_E_TIMEOUT,
  S_OK,
  type Host,
} from "../src/index.js";
import { expectBalanced, expectFailure, rejection, virtualHost } from "./support/fibers.js";
import { deferred, frameNames, hasJspi, loadGuest, tick, until, type LoadedGuest } from "./support/guest.js";

type Path = "asyncify" | "jspi";

async function load(host: Host, path: Path): Promise<LoadedGuest> {
  const g = await loadGuest(host, path === "asyncify" ? "asyncify" : "plain", { suspension: path });
  expect(g.guest.suspension).toBe(path);
  return g;
}

const transitions = (c: {
  reverseEnterRuntime: number;
  leaveRuntime: number;
  enterRuntime: number;
  reverseLeaveRuntime: number;
}) => [c.reverseEnterRuntime, c.leaveRuntime, c.enterRuntime, c.reverseLeaveRuntime];

function suite(path: Path): void {
  describe(`f.call on the ${path} path`, () => {
    it("parks the fiber in unmanaged mode with frames [R, L(target)] while the promise is pending, then resumes inside the guest", async () => {
      const host = await virtualHost();
      const { guest, setFetch } = await load(host, path);
      const gates = [deferred(), deferred(), deferred()];
      let n = 0;
      setFetch(() => gates[n++].promise);
      const t = host.spawn(function* (f) {
        return yield* f.call(guest.exports.compute, 5);
      });
      const run = host.run();
      await until(() => n === 1 && t.frames().length === 2);
      const fetch = guest.targets["env.host_fetch"].toString(16);
      expect(frameNames(t.frames())).toEqual(["R", `L${fetch}`]);
      expect(t.mode).toBe("unmanaged");
      expect(host.countManaged()).toBe(0);
      gates[0].resolve(1);
      await until(() => n === 2 && t.frames().length === 2);
      expect(frameNames(t.frames())).toEqual(["R", `L${fetch}`]);
      gates[1].resolve(2);
      await until(() => n === 3);
      gates[2].resolve(3);
      await run;
      expect(await t.result).toBe(123);
      expect(transitions(t.counters())).toEqual([1, 3, 3, 1]);
      expect(t.frames()).toEqual([]);
      expectBalanced(host);
    });

    it("keeps the guest's own state across suspensions (values before and after)", async () => {
      const host = await virtualHost();
      const { guest, setFetch, log } = await load(host, path);
      setFetch(async (x) => x + 100);
      const t = host.spawn(function* (f) {
        return yield* f.call(guest.exports.noteAndFetch, 7);
      });
      await host.run();
      expect(await t.result).toBe(114);
      expect(log.notes).toEqual([7, 107]);
    });

    it("an answer that is not a promise does not suspend", async () => {
      const host = await virtualHost();
      const { guest } = await load(host, path); // host_fetch answers x * 2 at once
      const t = host.spawn(function* (f) {
        return yield* f.call(guest.exports.compute, 1);
      });
      await host.run();
      expect(await t.result).toBe(246);
      expect(transitions(t.counters())).toEqual([1, 3, 3, 1]);
    });

    it("a call whose guest never suspends finishes within the fiber's step (runUntilIdle, no turn of the event loop)", async () => {
      const host = await virtualHost();
      const { guest } = await load(host, path);
      const t = host.spawn(function* (f) {
        const a = yield* f.call(guest.exports.add, 2, 3);
        const b = yield* f.call(guest.exports.nested, 2); // export → import → export → import
        yield* f.call(guest.exports.noop);
        return [a, b];
      });
      host.runUntilIdle();
      expect(t.done).toBe(true);
      expect(await t.result).toEqual([5, 2]);
      expect(transitions(t.counters())).toEqual([5, 2, 2, 5]);
    });

    it("other fibers run while one is parked inside the guest", async () => {
      const host = await virtualHost();
      const { guest, setFetch } = await load(host, path);
      const gate = deferred();
      setFetch(() => gate.promise);
      const order: string[] = [];
      host.spawn(function* (f) {
        order.push("a calls");
        const r = yield* f.call(guest.exports.fetchOnce, 1);
        order.push(`a got ${r}`);
      });
      host.spawn(function* (f) {
        order.push("b runs");
        yield* f.yield();
        order.push(`b calls add: ${yield* f.call(guest.exports.add, 2, 3)}`);
        gate.resolve(9);
      });
      await host.run();
      expect(order).toEqual(["a calls", "b runs", "b calls add: 5", "a got 9"]);
    });

    it("many fibers are suspended inside one instance at once, each resumes with its own answer and state", async () => {
      const host = await virtualHost();
      const { guest, setFetch } = await load(host, path);
      const N = 50;
      const pending: { x: number; d: ReturnType<typeof deferred> }[] = [];
      setFetch((x) => {
        const d = deferred();
        pending.push({ x, d });
        return d.promise;
      });
      const tasks = Array.from({ length: N }, (_, i) =>
        host.spawn(function* (f) {
          return yield* f.call(guest.exports.compute, i * 10);
        }),
      );
      const run = host.run();
      for (let round = 0; round < 3; round++) {
        await until(() => pending.length === N && tasks.every((t) => t.getState() === "waiting"));
        expect(pending.length).toBe(N); // every fiber is parked inside the guest
        expect(tasks.every((t) => t.frames().length === 2)).toBe(true);
        // release in reverse order, so resumptions interleave differently from suspensions
        const batch = pending.splice(0).reverse();
        for (const { x, d } of batch) d.resolve(x % 10);
      }
      await run;
      for (let i = 0; i < N; i++) expect(await tasks[i].result).toBe(12); // digits 0, 1, 2
      for (const t of tasks) expect(transitions(t.counters())).toEqual([1, 3, 3, 1]);
      expectBalanced(host);
    });

    it("fibers whose imports answer plain values and fibers whose imports answer promises interleave in one instance", async () => {
      const host = await virtualHost();
      const { guest, setFetch } = await load(host, path);
      // even x: a plain answer; odd x: a promise (settled at once or after a turn)
      setFetch((x) =>
        x % 2 === 0
          ? x % 10
          : x % 4 === 1
            ? Promise.resolve(x % 10)
            : new Promise((r) => setTimeout(() => r(x % 10), 0)),
      );
      const tasks = Array.from({ length: 12 }, (_, i) =>
        host.spawn(function* (f) {
          const a = yield* f.call(guest.exports.compute, i * 10); // digits 0, 1, 2
          yield* f.yield();
          const b = yield* f.call(guest.exports.fetchOnce, i);
          return [a, b, frameNames(f.task.frames()).length];
        }),
      );
      await host.run();
      for (let i = 0; i < 12; i++) expect(await tasks[i].result).toEqual([12, i % 10, 0]);
      for (const t of tasks) expect(transitions(t.counters())).toEqual([2, 4, 4, 2]);
      expectBalanced(host);
    });

    it("a rejection is thrown at the guest's call site and unwinds balanced; the instance stays usable", async () => {
      const host = await virtualHost();
      const { guest, setFetch } = await load(host, path);
      setFetch(() => Promise.reject(new RangeError("fetch failed")));
      const t = host.spawn(function* (f) {
        return yield* f.call(guest.exports.compute, 1);
      });
      const failure = expectFailure(t);
      await host.run();
      expect(await failure).toBeInstanceOf(RangeError);
      expect(transitions(t.counters())).toEqual([1, 1, 1, 1]);
      setFetch(async (x) => x);
      const u = host.spawn(function* (f) {
        return yield* f.call(guest.exports.fetchOnce, 4);
      });
      await host.run();
      expect(await u.result).toBe(4);
      expectBalanced(host);
    });

    it("a fiber catches a rejection thrown through the guest and goes on", async () => {
      const host = await virtualHost();
      const { guest, setFetch } = await load(host, path);
      setFetch(() => Promise.reject(new Error("no")));
      const t = host.spawn(function* (f) {
        try {
          yield* f.call(guest.exports.fetchOnce, 1);
        } catch (e) {
          return `caught ${(e as Error).message}, mode ${f.task.mode}, depth ${f.task.depth}`;
        }
      });
      await host.run();
      expect(await t.result).toBe("caught no, mode unmanaged, depth 0");
    });

    it("an abort of a fiber parked inside the guest unwinds it: frames closed, the instance usable", async () => {
      const host = await virtualHost();
      const { guest, setFetch } = await load(host, path);
      const never = deferred();
      setFetch(() => never.promise);
      let finallyRan = false;
      const t = host.spawn(function* (f) {
        try {
          return yield* f.call(guest.exports.compute, 1);
        } finally {
          finallyRan = true;
        }
      });
      const run = host.run();
      await until(() => t.frames().length === 2 && t.getState() === "waiting");
      expect(t.abort()).toBe(S_OK);
      await run;
      expect(await expectFailure(t)).toBeInstanceOf(TaskAbortError);
      expect(finallyRan).toBe(true);
      expect(transitions(t.counters())).toEqual([1, 1, 1, 1]);
      setFetch((x) => x);
      const u = host.spawn(function* (f) {
        return yield* f.call(guest.exports.compute, 1);
      });
      await host.run();
      expect(await u.result).toBe(123);
      expectBalanced(host);
    });

    it("a promise given up by an aborted call that settles later wakes no later call (their wait state is reused)", async () => {
      const host = await virtualHost();
      const { guest, setFetch } = await load(host, path);
      const first = deferred();
      const second = deferred();
      const gates = [first, second];
      let n = 0;
      setFetch(() => gates[n++].promise);
      const t = host.spawn(function* (f) {
        return yield* f.call(guest.exports.fetchOnce, 1);
      });
      const run = host.run();
      await until(() => n === 1 && t.getState() === "waiting");
      expect(t.abort()).toBe(S_OK);
      await run;
      expect(await expectFailure(t)).toBeInstanceOf(TaskAbortError);
      // The next call parks on its own promise; the first one settles meanwhile.
      const u = host.spawn(function* (f) {
        return yield* f.call(guest.exports.fetchOnce, 2);
      });
      const run2 = host.run();
      await until(() => n === 2 && u.getState() === "waiting");
      first.resolve(111);
      await tick();
      await tick();
      expect(u.getState()).toBe("waiting");
      second.resolve(222);
      await run2;
      expect(await u.result).toBe(222);
      expectBalanced(host);
    });

    it("while parked it does not hold up a runtime suspension; on return its EnterRuntime waits for the resume", async () => {
      const blocked: string[] = [];
      const host = await virtualHost({ onDeadlock: (d) => blocked.push(...d.map((x) => x.waitingOn ?? "")) });
      const { guest, setFetch } = await load(host, path);
      const gate = deferred();
      setFetch(() => gate.promise);
      const t = host.spawn(function* (f) {
        return yield* f.call(guest.exports.fetchOnce, 1);
      });
      const run = host.run();
      await until(() => t.frames().length === 2 && t.getState() === "waiting");
      expect(host.suspendRuntime()).toBe(S_OK);
      expect(host.countManaged()).toBe(0); // parked in unmanaged mode
      gate.resolve(77);
      const waitingOn = () => host.dump().find((x) => x.id === t.id)?.waitingOn;
      await until(() => waitingOn() === "the runtime to resume");
      expect(t.done).toBe(false);
      expect(frameNames(t.frames())).toEqual(["R", `L${guest.targets["env.host_fetch"].toString(16)}`]);
      await run; // nothing can progress until the resume: run() settles, as for any enter that waits
      expect(blocked).toEqual(["the runtime to resume"]);
      expect(host.resumeRuntime()).toBe(S_OK);
      await host.run();
      expect(await t.result).toBe(77);
      expectBalanced(host);
    });

    it("a suspension from a plain (non-operation) export call is an HResultError, its promise's rejection handled", async () => {
      const host = await virtualHost();
      const { guest, setFetch } = await load(host, path);
      setFetch(() => Promise.reject(new Error("not seen")));
      const err = (() => {
        try {
          guest.exports.fetchOnce(1);
        } catch (e) {
          return e;
        }
      })() as HResultError;
      expect(err).toBeInstanceOf(HResultError);
      expect(err.hr).toBe(HOST_E_INVALIDOPERATION);
      expect(err.message).toContain("env.host_fetch");
      expectBalanced(host);
      // and inside a fiber, a plain call is refused the same way
      const t = host.spawn(function* () {
        return guest.exports.fetchOnce(1);
      });
      const failure = expectFailure(t);
      await host.run();
      expect(((await failure) as HResultError).hr).toBe(HOST_E_INVALIDOPERATION);
      await tick();
    });

    it("a suspension from a call nested through an import is an HResultError; the frames unwind balanced", async () => {
      const host = await virtualHost();
      const { guest, setFetch, setCallback } = await load(host, path);
      setFetch(async (x) => x);
      setCallback("nestedFetch");
      const t = host.spawn(function* (f) {
        return yield* f.call(guest.exports.nestedFetch, 1);
      });
      const failure = expectFailure(t);
      await host.run();
      const err = (await failure) as HResultError;
      expect(err.hr).toBe(HOST_E_INVALIDOPERATION);
      expect(t.frames()).toEqual([]);
      const c = t.counters();
      expect(c.reverseEnterRuntime).toBe(c.reverseLeaveRuntime);
      expect(c.leaveRuntime).toBe(c.enterRuntime);
      // at depth 0 the same export may suspend
      const u = host.spawn(function* (f) {
        return yield* f.call(guest.exports.nestedFetch, 0);
      });
      await host.run();
      expect(await u.result).toBe(7);
    });

    it("a rude abort of a parked fiber ends it without its handlers; the core clears its frames; the instance stays usable", async () => {
      const host = await virtualHost();
      const { guest, setFetch } = await load(host, path);
      setFetch(() => deferred().promise);
      let finallyRan = false;
      const t = host.spawn(function* (f) {
        try {
          return yield* f.call(guest.exports.fetchOnce, 1);
        } finally {
          finallyRan = true;
        }
      });
      const run = host.run();
      await until(() => t.getState() === "waiting");
      expect(t.rudeAbort()).toBe(S_OK);
      await run;
      expect(await expectFailure(t)).toBeInstanceOf(TaskAbortError);
      expect(finallyRan).toBe(false);
      expect(t.frames()).toEqual([]);
      setFetch(async (x) => x + 1);
      const u = host.spawn(function* (f) {
        return yield* f.call(guest.exports.fetchOnce, 1);
      });
      await host.run();
      expect(await u.result).toBe(2);
    });

    it("an f.call made while the runtime is suspended waits in ReverseEnterRuntime until the resume", async () => {
      const blocked: string[] = [];
      const host = await virtualHost({ onDeadlock: (d) => blocked.push(...d.map((x) => x.name)) });
      const { guest, log } = await load(host, path);
      expect(host.suspendRuntime()).toBe(S_OK);
      const t = host.spawn(function* (f) {
        return yield* f.call(guest.exports.callAdd, 2, 2);
      });
      await host.run();
      expect(t.done).toBe(false);
      expect(blocked).toEqual([t.name]); // run() settled: only the resume can wake it
      expect(log.frames).toEqual([]);
      expect(t.frames()).toEqual([]);
      expect(host.resumeRuntime()).toBe(S_OK);
      await host.run();
      expect(await t.result).toBe(4);
      expect(transitions(t.counters())).toEqual([1, 1, 1, 1]);
    });

    it("an f.call on a disabled runtime throws HResultError(HOST_E_CLRNOTAVAILABLE) and calls nothing", async () => {
      const host = await virtualHost();
      const { guest, log } = await load(host, path);
      const t = host.spawn(function* (f) {
        yield* f.yield();
        return yield* f.call(guest.exports.callAdd, 2, 2);
      });
      const failure = expectFailure(t);
      host.disable("test");
      await host.run();
      expect(((await failure) as HResultError).hr).toBe(HOST_E_CLRNOTAVAILABLE);
      expect(log.frames).toEqual([]);
    });

    it("an enter that times out waiting for the resume abandons the guest call: HResultError(HOST_E_TIMEOUT), the instance usable", async () => {
      const host = await virtualHost({ enterTimeoutMs: 50 });
      const { guest, setFetch } = await load(host, path);
      const gate = deferred();
      setFetch(() => gate.promise);
      const t = host.spawn(function* (f) {
        return yield* f.call(guest.exports.fetchOnce, 1);
      });
      const failure = expectFailure(t);
      const run = host.run();
      await until(() => t.getState() === "waiting");
      expect(host.suspendRuntime()).toBe(S_OK);
      gate.resolve(1);
      await run;
      const err = (await failure) as HResultError;
      expect(err.hr).toBe(HOST_E_TIMEOUT);
      expect(err.message).toContain("abandoned");
      expect(host.resumeRuntime()).toBe(S_OK);
      setFetch(async (x) => x + 1);
      const u = host.spawn(function* (f) {
        return yield* f.call(guest.exports.fetchOnce, 1);
      });
      await host.run();
      expect(await u.result).toBe(2);
      expect(transitions(u.counters())).toEqual([1, 1, 1, 1]);
    });

    it("an unhooked suspending import (policy false) still suspends, without transitions: the fiber parks in managed mode", async () => {
      const host = await virtualHost({ callNeedsHostHook: (t) => t !== 0x77 });
      const { guest, setFetch } = await loadGuest(host, path === "asyncify" ? "asyncify" : "plain", {
        suspension: path,
        target: (_m, n) => (n === "host_fetch" ? 0x77 : undefined),
      });
      expect(guest.hooked["env.host_fetch"]).toBe(false);
      const gate = deferred();
      setFetch(() => gate.promise);
      const t = host.spawn(function* (f) {
        return yield* f.call(guest.exports.fetchOnce, 1);
      });
      const run = host.run();
      await until(() => t.getState() === "waiting");
      expect(frameNames(t.frames())).toEqual(["R"]);
      gate.resolve(8);
      await run;
      expect(await t.result).toBe(8);
      expect(transitions(t.counters())).toEqual([1, 0, 0, 1]);
    });

    it("host.run() does not settle while a fiber is parked inside a guest", async () => {
      const host = await virtualHost();
      const { guest, setFetch } = await load(host, path);
      const gate = deferred();
      setFetch(() => gate.promise);
      const t = host.spawn(function* (f) {
        return yield* f.call(guest.exports.fetchOnce, 1);
      });
      let settled = false;
      const run = host.run().then(() => (settled = true));
      await until(() => t.getState() === "waiting");
      for (let i = 0; i < 5; i++) await tick();
      expect(settled).toBe(false);
      gate.resolve(5);
      await run;
      expect(await t.result).toBe(5);
    });
  });
}

suite("asyncify");
// Where the engine has no WebAssembly.Suspending (Node 20) these show as skipped, not absent; the
// browser project must have it (the next test), so there they always run.
describe.runIf(hasJspi)("JSPI (WebAssembly.Suspending)", () => suite("jspi"));

describe("the engines the suites rely on", () => {
  it("the browser project's Chromium has JSPI: the jspi suites run there", ({ task, skip }) => {
    skip(!task.file.projectName?.startsWith("browser"), "only the browser project promises JSPI");
    expect(hasJspi).toBe(true);
    expect(typeof (WebAssembly as { promising?: unknown }).promising).toBe("function");
  });
});

describe("asyncify's data region", () => {
  it("holds a deep unwound stack; one larger than the region traps, and the call unwinds balanced", async () => {
    const host = await virtualHost();
    const { guest, setFetch } = await loadGuest(host, "asyncify");
    setFetch(async (x) => x);
    const deep = host.spawn(function* (f) {
      return yield* f.call(guest.exports.deepFetch, 20);
    });
    await host.run();
    expect(await deep.result).toBe(21);
    const tooDeep = host.spawn(function* (f) {
      return yield* f.call(guest.exports.deepFetch, 5000); // far more than the guest's 4 KiB region
    });
    const failure = expectFailure(tooDeep);
    await host.run();
    expect(await failure).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(tooDeep.frames()).toEqual([]);
    const c = tooDeep.counters();
    expect([c.reverseEnterRuntime, c.leaveRuntime, c.enterRuntime, c.reverseLeaveRuntime]).toEqual([1, 1, 1, 1]);
    const again = host.spawn(function* (f) {
      return yield* f.call(guest.exports.compute, 1);
    });
    await host.run();
    expect(await again.result).toBe(123);
    expectBalanced(host);
  });
});

describe("options.asyncifyData: the region a guest names for its unwound stack", () => {
  it("is the region used: a suspension writes asyncify's (current, end) pair there, and its size bounds the stack", async () => {
    const host = await virtualHost();
    // The guest's own region (it owns that memory), given through the option with a smaller size.
    const probe = await loadGuest(host, "asyncify");
    const address = (probe.guest.instance.exports.asyncify_data_address as () => number)();
    const ownSize = (probe.guest.instance.exports.asyncify_data_size as () => number)();
    expect(ownSize).toBe(4096);
    const size = 64; // MIN_ASYNCIFY_DATA: the (current, end) pair and 56 bytes of stack
    const { guest, setFetch } = await loadGuest(host, "asyncify", { asyncifyData: { address, size } });
    setFetch(async (x) => x * 3);
    const shallow = host.spawn(function* (f) {
      return yield* f.call(guest.exports.fetchOnce, 5);
    });
    await host.run();
    expect(await shallow.result).toBe(15);
    // asyncify's end pointer: the region's end as the option gave it, not as the export says
    const end = new Int32Array(guest.exports.memory.buffer)[(address >> 2) + 1];
    expect(end).toBe(address + size);
    // A stack that fits the guest's 4 KiB region but not this one traps, balanced.
    const deep = host.spawn(function* (f) {
      return yield* f.call(guest.exports.deepFetch, 20);
    });
    const failure = expectFailure(deep);
    await host.run();
    expect(await failure).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(deep.frames()).toEqual([]);
    probe.setFetch(async (x) => x);
    const again = host.spawn(function* (f) {
      return yield* f.call(probe.guest.exports.deepFetch, 20);
    });
    await host.run();
    expect(await again.result).toBe(21); // the guest's own region holds it
    expectBalanced(host);
  });
});

describe.runIf(hasJspi)("JSPI's one-result limit", () => {
  // Module sections, by hand: a JSPI trampoline is made per signature and takes at most one result.
  const vec = (items: number[][]) => [items.length, ...items.flat()];
  const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  const wasm = (...sections: number[][]) =>
    new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...sections.flat()]);
  const I32 = 0x7f;
  const twoResults = [0x60, 0x00, 0x02, I32, I32]; // () -> (i32, i32)
  const noResult = [0x60, 0x00, 0x00]; // () -> ()

  it("a suspending import with two results: instantiate rejects with E_NOTIMPL naming it", async () => {
    const host = await virtualHost();
    // (module (import "env" "f" (func (result i32 i32))))
    const bytes = wasm(section(1, vec([twoResults])), section(2, vec([[...str("env"), ...str("f"), 0x00, 0x00]])));
    const err = await rejection(
      host.instantiate(bytes, { env: { f: async () => [1, 2] } }, { suspension: "jspi", suspending: ["env.f"] }),
    );
    expect(err).toBeInstanceOf(HResultError);
    expect((err as HResultError).hr).toBe(E_NOTIMPL);
    expect((err as Error).message).toMatch(/at most one result \(import env\.f\)/);
  });

  it("an export with two results: a plain call works, f.call throws HResultError(E_NOTIMPL) in the fiber", async () => {
    const host = await virtualHost();
    // (module (import "env" "s" (func)) (func (result i32 i32) i32.const 1 i32.const 2) (export "two" (func 1)))
    const bytes = wasm(
      section(1, vec([twoResults, noResult])),
      section(2, vec([[...str("env"), ...str("s"), 0x00, 0x01]])),
      section(3, vec([[0x00]])),
      section(7, vec([[...str("two"), 0x00, 0x01]])),
      section(10, vec([[6, 0x00, 0x41, 0x01, 0x41, 0x02, 0x0b]])),
    );
    const g = await host.instantiate<{ two(): number[] }>(
      bytes,
      { env: { s: async () => {} } },
      { suspension: "jspi", suspending: ["env.s"] },
    );
    expect(g.suspension).toBe("jspi");
    expect(g.exports.two()).toEqual([1, 2]);
    const t = host.spawn(function* (f) {
      return yield* f.call(g.exports.two as () => never);
    });
    const failure = expectFailure(t);
    await host.run();
    const err = (await failure) as HResultError;
    expect(err).toBeInstanceOf(HResultError);
    expect(err.hr).toBe(E_NOTIMPL);
    expect(err.message).toMatch(/JSPI cannot wrap export two/);
    expectBalanced(host);
  });
});

describe("asyncify and a guest memory that grows", () => {
  it("a fiber parked while the memory grows resumes with its stack intact", async () => {
    const host = await virtualHost();
    const { guest, setFetch } = await loadGuest(host, "asyncify");
    const gates = [deferred(), deferred(), deferred()];
    let n = 0;
    setFetch(() => gates[n++].promise);
    const t = host.spawn(function* (f) {
      return yield* f.call(guest.exports.compute, 5);
    });
    const run = host.run();
    await until(() => n === 1 && t.getState() === "waiting");
    guest.exports.memory.grow(1); // detaches the buffer every view was made over
    gates[0].resolve(4);
    await until(() => n === 2 && t.getState() === "waiting");
    guest.exports.memory.grow(2);
    gates[1].resolve(5);
    await until(() => n === 3);
    gates[2].resolve(6);
    await run;
    expect(await t.result).toBe(456);
  });
});

describe("suspension 'none'", () => {
  it("a suspending import that answers a promise inside f.call is an HResultError; the instance stays usable", async () => {
    const host = await virtualHost();
    const { guest, setFetch } = await loadGuest(host, "asyncify", { suspension: "none" });
    expect(guest.suspension).toBe("none");
    setFetch(() => Promise.reject(new Error("not seen")));
    const t = host.spawn(function* (f) {
      return yield* f.call(guest.exports.fetchOnce, 1);
    });
    const failure = expectFailure(t);
    await host.run();
    const err = (await failure) as HResultError;
    expect(err.hr).toBe(HOST_E_INVALIDOPERATION);
    expect(err.message).toContain("cannot suspend");
    setFetch((x) => x);
    const u = host.spawn(function* (f) {
      return yield* f.call(guest.exports.fetchOnce, 3);
    });
    await host.run();
    expect(await u.result).toBe(3);
    expectBalanced(host);
  });

  it("'auto' picks asyncify for a guest built with it; for a plain guest, JSPI where the engine has it, else none", async () => {
    const host = await virtualHost();
    expect((await loadGuest(host, "asyncify")).guest.suspension).toBe("asyncify");
    expect((await loadGuest(host, "plain")).guest.suspension).toBe(hasJspi ? "jspi" : "none");
  });
});

describe("f.call made from another fiber's context", () => {
  it("throws HResultError(E_INVALIDARG) in the fiber that yields it; the owner is untouched", async () => {
    const host = await virtualHost();
    const { guest } = await loadGuest(host, "asyncify");
    let stolen: FiberContextLike | null = null;
    const owner = host.spawn(function* (f) {
      stolen = f;
      yield* f.yield();
      return yield* f.call(guest.exports.add, 1, 2);
    });
    const thief = host.spawn(function* () {
      return yield* stolen!.call(guest.exports.add, 3, 4);
    });
    const failure = expectFailure(thief);
    await host.run();
    expect(((await failure) as HResultError).hr).toBe(E_INVALIDARG);
    expect(await owner.result).toBe(3);
    expectBalanced(host);
  });
});

type FiberContextLike = {
  call(fn: (...a: number[]) => number, ...args: number[]): Iterable<unknown> & Iterator<unknown, number>;
};
