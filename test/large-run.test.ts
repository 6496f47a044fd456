// A large run: many thousands of fibers in a single host.run(), each yielding, sleeping and
// waiting on events, all of them finishing with the right results and the host left clean.
import { describe, it, expect } from "vitest";
import { createHost, S_OK } from "../src/index.js";

const FIBERS = 12_000;

describe("a large run", () => {
  it(`${FIBERS} fibers doing yields, sleeps and event waits all finish in one host.run()`, async () => {
    const host = await createHost({ clock: "virtual" });
    const gate = host.createManualEvent(false);
    const pairs = Array.from({ length: FIBERS / 2 }, () => host.createAutoEvent());
    const sem = host.createSemaphore(0, FIBERS);
    const answers: number[] = [];
    let finished = 0;

    const tasks = [];
    for (let i = 0; i < FIBERS; i++) {
      tasks.push(
        host.spawn(
          function* (f, n: number) {
            for (let k = 0; k < 3; k++) yield* f.yield();
            answers.push(yield* f.sleep((n % 37) + 1));
            const pair = pairs[n >> 1];
            if (n % 2 === 0) {
              answers.push(yield* pair.wait()); // woken by its odd partner
            } else {
              yield* f.yield();
              pair.set();
            }
            sem.release(1);
            answers.push(yield* gate.wait());
            finished++;
            return n;
          },
          { param: i },
        ),
      );
    }
    // The controller opens the gate once every fiber has passed its pair wait.
    const controller = host.spawn(function* (f) {
      for (let i = 0; i < FIBERS; i++) answers.push(yield* sem.wait());
      yield* f.sleep(100);
      gate.set();
    });
    await host.run();

    expect(finished).toBe(FIBERS);
    expect(controller.done).toBe(true);
    expect(answers.length).toBe(FIBERS + FIBERS / 2 + FIBERS + FIBERS);
    expect(answers.every((hr) => hr === S_OK)).toBe(true);
    let sum = 0;
    for (const t of tasks) sum += (await t.result) as number;
    expect(sum).toBe((FIBERS * (FIBERS - 1)) / 2);
    expect(host.liveTaskCount).toBe(1);
    expect(host.now()).toBeGreaterThanOrEqual(100);
    expect(host.checkInvariants()).toBe(true);
    const c = host.counters();
    expect(c.switchIn).toBeGreaterThanOrEqual(FIBERS * 5);
    // Every switch-in is matched by a switch-out, except each fiber's last: its ExitTask retires it.
    expect(c.switchIn).toBe(c.switchOut + FIBERS + 1);
  });
});
