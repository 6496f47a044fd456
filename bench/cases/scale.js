// Scale: a million fibers spawned, run and ended (by host.spawn, and by f.spawn from a fiber); a
// million parked at once (in `yield* ev.wait()`, and in `yield* f.wait(ev, INFINITE)` with `f`
// kept); suspend and resume with 10,000 fibers held in managed mode.

import { createHost, INFINITE, S_OK } from "../../dist/index.js";
import { fail } from "./support.js";

export const SCALE_CASES = [
  {
    name: "spawn + run + exit (1,000,000 fibers)",
    group: "scale",
    op: "fiber",
    fixedN: 1_000_000,
    warmupN: 200_000,
    async setup() {
      const host = await createHost({ clock: "virtual" });
      const box = { count: 0 };
      function* body() {
        box.count++;
      }
      const BATCH = 10_000; // spawn a batch, run it to the end, again: a steady state, not one huge queue
      return {
        run(n) {
          const before = box.count;
          for (let done = 0; done < n; done += BATCH) {
            const m = Math.min(BATCH, n - done);
            for (let i = 0; i < m; i++) host.spawn(body);
            host.runUntilIdle();
          }
          return box.count - before;
        },
        verify(iterations, sink) {
          if (sink !== iterations) fail(`spawn: ${sink} bodies ran, expected ${iterations}`);
          if (host.liveTaskCount !== 1) fail(`spawn: ${host.liveTaskCount} tasks still live`);
        },
      };
    },
  },
  {
    name: "spawn + run + exit, f.spawn from a fiber (1,000,000 fibers)",
    group: "scale",
    op: "fiber",
    fixedN: 1_000_000,
    warmupN: 200_000,
    async setup() {
      const host = await createHost({ clock: "virtual" });
      const box = { count: 0 };
      function* body() {
        box.count++;
      }
      const BATCH = 10_000; // as host.spawn's case: a batch of children at a time
      // A parent spawns a batch of children and yields once: they run and end (in spawn order,
      // before it is resumed), then it ends. Structured concurrency's bookkeeping (each child
      // adopted, each end told to the parent) is what this case adds to host.spawn's.
      function* parent(f) {
        for (let i = 0; i < BATCH; i++) f.spawn(body);
        yield* f.yield();
      }
      return {
        run(n) {
          const before = box.count;
          for (let done = 0; done < n; done += BATCH) {
            if (n - done < BATCH) fail(`f.spawn: ${n} is not a whole number of batches of ${BATCH}`);
            host.spawn(parent);
            host.runUntilIdle();
          }
          return box.count - before;
        },
        verify(iterations, sink) {
          if (sink !== iterations) fail(`f.spawn: ${sink} children ran, expected ${iterations}`);
          if (host.liveTaskCount !== 1) fail(`f.spawn: ${host.liveTaskCount} tasks still live`);
        },
      };
    },
  },
  {
    name: "1,000,000 parked fibers: spawn + park",
    group: "scale",
    op: "fiber",
    measure: (env) => measureParked(env, false),
  },
  {
    name: "1,000,000 parked fibers in f.wait(ev, INFINITE), keeping f: spawn + park",
    group: "scale",
    op: "fiber",
    measure: (env) => measureParked(env, true),
  },
  {
    name: "suspend + resume, 10,000 fibers held in managed mode",
    group: "scale",
    op: "pair",
    async setup() {
      const N = 10_000;
      const host = await createHost({ clock: "virtual" });
      const box = { entered: 0 };
      function* body(f) {
        yield* f.managed(function* () {
          box.entered++;
          for (;;) yield* f.yield();
        });
      }
      for (let i = 0; i < N; i++) host.spawn(body);
      // Spawned last, it runs once every fiber has entered managed mode and yielded: the
      // fibers are then switched out in managed mode, and the suspended runtime holds them.
      host.spawn(function* () {
        if (host.suspendRuntime() !== S_OK) fail("suspendRuntime failed");
      });
      host.runUntilIdle();
      if (box.entered !== N || host.countManaged() !== N)
        fail(`suspend: ${box.entered} entered, ${host.countManaged()} managed`);
      return {
        run(n) {
          let s = 0;
          for (let i = 0; i < n; i++) {
            s += host.resumeRuntime(); // requeues the 10,000 held fibers
            s += host.suspendRuntime();
            host.runUntilIdle(); // each is dequeued and held again, without running
          }
          return s;
        },
        verify(_iterations, sink) {
          if (sink !== 0) fail(`suspend/resume answered failures (sum ${sink})`);
          if (box.entered !== N || host.countManaged() !== N) fail("suspend: a held fiber ran");
        },
      };
    },
  },
];

/**
 * 1,000,000 fibers parked at once, each waiting on one manual event (the same one). Measured once
 * per process, from a fresh host: the time to spawn and park them, the memory they hold (RSS in
 * Node, the whole process's and its growth; the JS heap where performance.memory exists, and the
 * core's linear memory), and the time to wake them all and let them end. `keepF`: the bodies wait
 * with `yield* f.wait(ev, INFINITE)` and keep their context `f` (a parameter the generator holds),
 * as most code is written; otherwise `yield* ev.wait()` in a body that takes no `f`.
 */
async function measureParked(env, keepF) {
  const N = 1_000_000;
  const host = await createHost({ clock: "virtual" });
  const ev = host.createManualEvent(false);
  const box = { woke: 0 };
  const body = keepF
    ? function* (f) {
        if ((yield* f.wait(ev, INFINITE)) === S_OK) box.woke++;
      }
    : function* () {
        if ((yield* ev.wait()) === S_OK) box.woke++;
      };
  // The metrics' names: the first form's as they always were.
  const P = keepF ? "parked (f.wait, f kept)" : "parked";
  // Warm the paths up on a separate host and event, small enough not to matter to the memory.
  {
    const warm = await createHost({ clock: "virtual" });
    const wev = warm.createManualEvent(false);
    const wbody = keepF
      ? function* (f) {
          yield* f.wait(wev, INFINITE);
        }
      : function* () {
          yield* wev.wait();
        };
    for (let r = 0; r < 5; r++) {
      for (let i = 0; i < 10_000; i++) warm.spawn(wbody);
      warm.runUntilIdle();
      wev.set();
      warm.runUntilIdle();
      wev.reset();
    }
  }
  env.gc?.();
  const m0 = await env.memory();
  const t0 = env.now();
  for (let i = 0; i < N; i++) host.spawn(body);
  host.runUntilIdle();
  const t1 = env.now();
  const live = host.liveTaskCount - 1;
  if (live !== N) fail(`parked: ${live} live fibers, expected ${N}`);
  env.gc?.();
  const m1 = await env.memory();
  const coreBytes = host.coreMemoryBytes;
  const t2 = env.now();
  ev.set();
  host.runUntilIdle();
  const t3 = env.now();
  if (box.woke !== N || host.liveTaskCount !== 1)
    fail(`parked: ${box.woke} woke, ${host.liveTaskCount - 1} still live`);
  const metrics = {
    [`${P}: core memory per fiber (bytes)`]: coreBytes / N,
    [`${P}: wake + exit per fiber (ns)`]: ((t3 - t2) * 1e6) / N,
  };
  const notes = [];
  if (m0?.rss !== undefined && m1?.rss !== undefined) {
    metrics[`${P}: RSS, whole process (MB)`] = m1.rss / 2 ** 20;
    metrics[`${P}: RSS delta (MB)`] = (m1.rss - m0.rss) / 2 ** 20;
    metrics[`${P}: RSS delta per fiber (bytes)`] = (m1.rss - m0.rss) / N;
  } else if (m0?.browserRss !== undefined && m1?.browserRss !== undefined) {
    metrics[`${P}: browser processes' RSS, whole (MB)`] = m1.browserRss / 2 ** 20;
    metrics[`${P}: browser processes' RSS delta (MB)`] = (m1.browserRss - m0.browserRss) / 2 ** 20;
    metrics[`${P}: browser processes' RSS delta per fiber (bytes)`] = (m1.browserRss - m0.browserRss) / N;
    notes.push(
      "RSS: a page cannot read it; the runner read the RSS of the browser's processes (the renderer among them) from /proc just before and after the fibers parked",
    );
  } else {
    notes.push(
      "RSS: not measurable in a page (no process.memoryUsage); the JS heap and the core's memory are reported instead",
    );
  }
  if (m0?.heap !== undefined && m1?.heap !== undefined) {
    metrics[`${P}: JS heap delta per fiber (bytes)`] = (m1.heap - m0.heap) / N;
    metrics[`${P}: JS heap + core memory (MB)`] = (m1.heap - m0.heap + coreBytes) / 2 ** 20;
  } else {
    notes.push("JS heap: performance.memory is not available in this engine");
  }
  return { samplesNs: [((t1 - t0) * 1e6) / N], sink: box.woke, metrics, notes };
}
