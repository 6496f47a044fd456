// startWorker (src/threads/worker-start.ts) in both projects: a worker running a fixture module of
// test/fixtures/workers/ shares memory with the test (Atomics.add + notify, seen by waitAsync), and
// reports through onExit exactly once however it ends. In Chromium the page is cross-origin isolated
// (vitest.config.ts's COOP/COEP headers), which SharedArrayBuffer needs. Node runs dist/ (see
// test/support/workers.ts).
import { afterEach, describe, expect, it } from "vitest";
import {
  exitOf,
  fixtureUrl,
  inBrowser,
  nextMessage,
  startFixture,
  stopAll,
  waitAsync,
  workerStart,
  type WorkerExit,
} from "./support/workers.js";

afterEach(stopAll);

describe("startWorker: a worker running a module, the same in Node and Chromium", () => {
  it.runIf(inBrowser)(
    "the browser project's page is cross-origin isolated (Chromium: SharedArrayBuffer needs it)",
    () => {
      expect(globalThis.crossOriginIsolated).toBe(true);
      expect(typeof SharedArrayBuffer).toBe("function");
    },
  );

  it("shares a SharedArrayBuffer: the worker's Atomics.add + notify wakes the test's waitAsync", async () => {
    const port = await startFixture("atomics-add.js", { data: "hello" });
    const buffer = new SharedArrayBuffer(8);
    const words = new Int32Array(buffer);
    words[0] = 40;
    const woken = waitAsync(words, 0, 40, 10_000);
    port.postMessage({ buffer, add: 2 });
    expect(await woken).toBe("ok");
    expect(Atomics.load(words, 0)).toBe(42);
    // The worker's answer: the word before its add, and the start's data.
    expect(await nextMessage(port)).toEqual({ before: 40, data: "hello" });

    const exits: WorkerExit[] = [];
    port.onExit((exit) => exits.push(exit));
    await port.terminate();
    await new Promise((r) => setTimeout(r, 50));
    expect(exits).toEqual([{ code: 1 }]);
    // A listener added after the end hears it too, once.
    expect(await exitOf(port)).toEqual({ code: 1 });
  });

  it("a module that imports the library by its package name runs a host and its fibers in the worker", async () => {
    const port = await startFixture("runs-fibers.js", { data: { answer: 42 } });
    expect(await nextMessage(port)).toEqual({ result: 42, invariants: true, name: "E_INVALIDARG" });
  });

  it("a module that throws at its top level ends the worker: onExit reports the error, once", async () => {
    const port = await startFixture("throws.js");
    const exits: WorkerExit[] = [];
    port.onExit((exit) => exits.push(exit));
    const exit = await exitOf(port);
    expect(exit.code).toBe(1);
    expect(exit.error).toBeInstanceOf(Error);
    expect((exit.error as Error).message).toBe("thrown at the top level of throws.js");
    await port.terminate();
    await new Promise((r) => setTimeout(r, 50));
    expect(exits).toHaveLength(1);
    // The first end is the end: a listener added after the terminate hears the error, not the terminate.
    expect(await exitOf(port)).toBe(exit);
  });

  it("a module whose main() rejects ends the worker with that error", async () => {
    const port = await startFixture("rejects.js");
    const exit = await exitOf(port);
    expect(exit.code).toBe(1);
    expect((exit.error as Error).message).toBe("rejected by main() of rejects.js");
  });

  it("a worker that ends itself (process.exit in Node, close() in a browser) reports its code", async () => {
    const port = await startFixture("exits.js", { data: { code: 7 } });
    expect(await exitOf(port)).toEqual({ code: inBrowser ? 0 : 7 });
  });

  it("a module that cannot be loaded ends the worker with an error", async () => {
    const port = await startFixture("no-such-module.js");
    const exit = await exitOf(port);
    expect(exit.code).toBe(1);
    expect(exit.error).toBeDefined();
  });

  it.runIf(!inBrowser)(
    "Node, from the TypeScript sources: E_NOTIMPL saying to run dist/ (no worker can load .ts)",
    async () => {
      const { startWorker } = await import("../src/threads/worker-start.js");
      expect(() => startWorker({ module: fixtureUrl("atomics-add.js") })).toThrow(
        /E_NOTIMPL.*the built library \(dist\/\)/,
      );
    },
  );

  it("bad options: an HResultError (E_INVALIDARG) naming what was wrong", async () => {
    const { startWorker } = await workerStart();
    expect(() => startWorker(null as never)).toThrow(/E_INVALIDARG.*options must be an object/);
    expect(() => startWorker({ module: "" })).toThrow(/E_INVALIDARG.*options.module must be a URL/);
  });
});
