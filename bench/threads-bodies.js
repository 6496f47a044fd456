// The entry module of bench/threads.js's pools: the bodies createHost({ threads, entry }) runs by
// name on its workers (spawnOn). The same file in Node (worker_threads) and Chromium (module
// workers): "../dist/index.js" is the built package in both, as the worker's bootstrap loaded it.
import { poolWorkerHost } from "../dist/index.js";
import { crunch } from "./threads-work.js";

const host = () => {
  const h = poolWorkerHost();
  if (h === null) throw new Error("threads-bodies.js runs on a pool's worker only");
  return h;
};

/**
 * Spawns `n` fibers that each, in managed code, count one step in word 0 of `progress` and yield,
 * until word 1 is set (then each adds 1 to word 2 as it ends). The step whose count is word 3 (the
 * first after a resume) or word 4 (the n-th) writes the time it ran into the Float64 at byte 24 or
 * 32 (performance.timeOrigin + performance.now()): the main thread need not spin to time a resume.
 * Answers once they are spawned.
 */
export function* yielders(_f, { progress, n }) {
  const w = new Int32Array(progress, 0, 6);
  const stamps = new Float64Array(progress, 24, 2);
  const h = host();
  for (let i = 0; i < n; i++) {
    h.spawn(function* (g) {
      yield* g.managed(function* () {
        while (Atomics.load(w, 1) === 0) {
          const c = Atomics.add(w, 0, 1) + 1;
          if (c === w[3]) stamps[0] = performance.timeOrigin + performance.now();
          else if (c === w[4]) stamps[1] = performance.timeOrigin + performance.now();
          yield* g.yield();
        }
      });
      Atomics.add(w, 2, 1);
    });
  }
  return n;
}

/**
 * The wake case's waiter: `rounds` times, say which round it is about to wait for (word 1), wait on
 * the shared auto event `event`, then write the time it runs again (a Float64 at byte 16:
 * performance.timeOrigin + performance.now()) and the round (word 0), and set `back` (the round
 * trip's return leg, which a fiber on the main thread waits on).
 */
export function* waiter(_f, { event, back, sab, rounds }) {
  const w = new Int32Array(sab, 0, 4);
  const stamp = new Float64Array(sab, 16, 1);
  // An auto event's view (openShared answers the base class).
  const ev = /** @type {import("../dist/index.js").SharedAutoEvent} */ (host().openShared(event));
  const ret = /** @type {import("../dist/index.js").SharedAutoEvent} */ (host().openShared(back));
  let failed = 0;
  for (let i = 1; i <= rounds; i++) {
    Atomics.store(w, 1, i);
    const hr = yield* ev.wait();
    if (hr !== 0) failed++;
    stamp[0] = performance.timeOrigin + performance.now();
    Atomics.store(w, 0, i); // after the stamp: a thread that reads this round reads its stamp
    if (ret.set() !== 0) failed++;
  }
  return failed;
}

/**
 * The CPU-bound workload: `fibers` fibers, each `steps` steps of `iters` rounds of fixed arithmetic
 * (threads-work.js) in managed code, yielding after each step. Answers a checksum of every fiber's.
 */
export function* cpu(f, { fibers, steps, iters }) {
  const h = host();
  const tasks = [];
  for (let i = 0; i < fibers; i++) {
    tasks.push(
      h.spawn(function* (g) {
        let x = i + 1;
        yield* g.managed(function* () {
          for (let s = 0; s < steps; s++) {
            x = crunch(x, iters);
            yield* g.yield();
          }
        });
        return x;
      }),
    );
  }
  const xs = yield* f.await(Promise.all(tasks.map((t) => t.result)));
  return xs.reduce((a, b) => (a + b) | 0, 0);
}
