// Node only: heap checks need the garbage collector on demand (v8 flags).
import { describe, expect, it } from "vitest";
import { createHost, S_OK } from "../src/index.js";
import { heapUsed } from "./support/gc.node.js";

describe("timers (JS heap)", () => {
  it("100,000 fibers whose timed waits were satisfied are not kept alive by their timers", async () => {
    const clock = { t: 0, now: () => clock.t };
    const host = await createHost({ clock });
    const sem = host.createSemaphore(0, 0x7fffffff);
    host.spawn(function* (f) {
      yield* f.sleep(1000); // the heartbeat, due before every wait's timeout
    });
    const round = (n: number): number => {
      let ok = 0;
      for (let i = 0; i < n; i++) {
        const captured = new Array(16).fill(i); // what a real fiber's generator holds on to
        host.spawn(function* () {
          if ((yield* sem.wait(3_600_000)) === S_OK && captured[0] === i) ok++;
        });
      }
      host.runUntilIdle();
      sem.release(n);
      host.runUntilIdle();
      return ok;
    };
    round(100_000); // warm up: the task table, the rings and the heap's array reach their working size
    const before = heapUsed();
    expect(round(100_000)).toBe(100_000);
    const growth = heapUsed() - before;
    expect(host.liveTaskCount).toBe(2); // the root task and the heartbeat
    expect(growth, `heap growth after 100,000 satisfied timed waits: ${(growth / 1024).toFixed(0)} KiB`).toBeLessThan(
      2 * 1024 * 1024,
    );
    expect(host.sched.timerCount).toBe(1);
  });
});
