// The benchmark cases, shared by the Node runner (bench/node-worker.js) and the browser page
// (bench/browser/page.js). Each case measures the built package (dist/), with its floor and its
// peers in the same suite, so that every ratio is taken between cases measured in one process.
//
// A case's run(n) does n iterations and answers a number (the sink): the harness adds the sinks
// up, checks them against what the iterations must have produced (verify), and reports them, so
// no engine can drop the work. One iteration is `opsPerIter` operations (a ping-pong iteration
// is two switches); results are in ns per operation.

import { createHost, S_OK } from "../dist/index.js";
import { ReferenceTasks, REFERENCE_COUNTERS } from "./reference-ts.js";

// --- how long to measure ---------------------------------------------------------------------

/** Samples of about `sampleMs` each, after `warmupMs` of warm-up (the JIT settles there). */
export const PLANS = {
  full: { processes: 7, sampleMs: 20, warmupMs: 300, samples: 25, fixedSamples: 3 },
  quick: { processes: 3, sampleMs: 8, warmupMs: 80, samples: 8, fixedSamples: 1 },
};

// --- the floor: an empty exported wasm function, hand-assembled --------------------------------

/** (module (func (export "f"))): the cheapest call from JS into wasm. */
export const EMPTY_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, //             type section: one type, () -> ()
  0x03, 0x02, 0x01, 0x00, //                         function section: one function of type 0
  0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, //       export section: "f" -> function 0
  0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, //             code section: one body, no locals, end
]);

function fail(message) {
  throw new Error(`bench: ${message}`);
}

/** Opens `depth` frames ending managed: R, then (L, R) pairs, then R when the count is even. */
function openFrames(t, depth) {
  let hr = 0;
  for (let i = 0; i < depth; i++) hr |= i % 2 === 1 && i < depth - 1 ? t.leaveRuntime(0x64) : t.reverseEnterRuntime();
  return hr;
}

/** Closes what openFrames(depth) opened, innermost first. */
function closeFrames(t, depth) {
  let hr = 0;
  for (let i = depth - 1; i >= 0; i--) hr |= i % 2 === 1 && i < depth - 1 ? t.enterRuntime() : t.reverseLeaveRuntime();
  return hr;
}

const COUNTER_KEYS = ["leaveRuntime", "enterRuntime", "reverseEnterRuntime", "reverseLeaveRuntime"];

/**
 * The transitions' shared state in this process: one host, whose root task every transitions
 * case uses (each opens the frames it needs, runs, and closes them again), and what the root's
 * counters must read once they have run.
 */
let transitionHost = null;
async function sharedTransitionHost() {
  if (!transitionHost) {
    const host = await createHost();
    transitionHost = { host, tm: host.taskManager, expected: Object.fromEntries(COUNTER_KEYS.map((k) => [k, 0])) };
  }
  return transitionHost;
}

/** Counts what openFrames + closeFrames(depth) move. */
function addFrameCounts(expected, depth) {
  for (let i = 0; i < depth; i++) {
    if (i % 2 === 1 && i < depth - 1) {
      expected.leaveRuntime++;
      expected.enterRuntime++;
    } else {
      expected.reverseEnterRuntime++;
      expected.reverseLeaveRuntime++;
    }
  }
}

/**
 * A transitions case on the shared host's root task, at nesting `depth` (frames opened first; 1:
 * one reverse enter, so the root is in managed mode). The sink is the sum of the HRESULTs (0 when
 * all succeed); the root's counters are checked against every iteration of every case.
 */
function transitionCase(name, op, depth, loop, perIter) {
  return {
    name,
    group: "transitions",
    op,
    async setup() {
      const h = await sharedTransitionHost();
      const { tm, expected } = h;
      return {
        run(n) {
          let s = openFrames(tm, depth);
          s += loop(tm, n);
          s += closeFrames(tm, depth);
          addFrameCounts(expected, depth);
          for (const k in perIter) expected[k] += perIter[k] * n;
          return s;
        },
        verify(iterations, sink) {
          if (sink !== 0) fail(`${name}: a transition failed (sum of HRESULTs ${sink})`);
          const c = h.host.rootTask.counters();
          for (const k of COUNTER_KEYS) {
            if (c[k] !== expected[k]) fail(`${name}: the root's ${k} reads ${c[k]}, expected ${expected[k]}`);
          }
          if (h.host.rootTask.depth !== 0) fail(`${name}: the root task kept ${h.host.rootTask.depth} frames`);
        },
      };
    },
  };
}

/**
 * The plain-TS reference in this process: like the host's root task, the current task of a
 * scheduler that switches tasks (switched away and back once here), so that V8 cannot fold the
 * current task into a constant, as it cannot for the door either.
 */
let referenceTasks = null;
function sharedReference() {
  if (!referenceTasks) {
    const ref = new ReferenceTasks(4, 2048);
    ref.startRuntime();
    ref.switchTo(1);
    ref.switchTo(0);
    referenceTasks = { ref, expected: Object.fromEntries(COUNTER_KEYS.map((k) => [k, 0])) };
  }
  return referenceTasks;
}

function referenceCase(name, op, depth, loop, perIter) {
  return {
    name,
    group: "floor",
    op,
    async setup() {
      const h = sharedReference();
      const { ref, expected } = h;
      return {
        run(n) {
          let s = openFrames(ref, depth);
          s += loop(ref, n);
          s += closeFrames(ref, depth);
          addFrameCounts(expected, depth);
          for (const k in perIter) expected[k] += perIter[k] * n;
          return s;
        },
        verify(iterations, sink) {
          if (sink !== 0) fail(`${name}: a transition failed (sum ${sink})`);
          const c = ref.countersOf(0);
          for (const k of COUNTER_KEYS) {
            if (c[REFERENCE_COUNTERS[k]] !== expected[k]) fail(`${name}: ${k} reads ${c[REFERENCE_COUNTERS[k]]}, expected ${expected[k]}`);
          }
        },
      };
    },
  };
}

// --- the cases -------------------------------------------------------------------------------------

/**
 * name, group (for the tables), what one operation is (`op`), opsPerIter, and setup(env), which
 * answers { run(n), verify(iterations, sink) } (or `measure(env)` for one-shot cases).
 */
export const CASES = [
  // Transitions through the public API, on host.rootTask of one host per process (an application
  // has one host; a second CoreDoor in the process changes what V8 can specialise).
  transitionCase("ReverseEnter + ReverseLeave pair", "pair", 0, (tm, n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += tm.reverseEnterRuntime();
      s += tm.reverseLeaveRuntime();
    }
    return s;
  }, { reverseEnterRuntime: 1, reverseLeaveRuntime: 1 }),
  transitionCase("LeaveRuntime + EnterRuntime pair", "pair", 1, (tm, n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += tm.leaveRuntime(0x1000);
      s += tm.enterRuntime();
    }
    return s;
  }, { leaveRuntime: 1, enterRuntime: 1 }),
  transitionCase("six-step nested sequence", "sequence", 1, (tm, n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += tm.leaveRuntime(0xa); // managed code calls unmanaged A
      s += tm.reverseEnterRuntime(); // which calls back into managed code
      s += tm.leaveRuntime(0xb); // which calls unmanaged B
      s += tm.enterRuntime(); // B returns
      s += tm.reverseLeaveRuntime(); // the callback returns
      s += tm.enterRuntime(); // A returns
    }
    return s;
  }, { leaveRuntime: 2, enterRuntime: 2, reverseEnterRuntime: 1, reverseLeaveRuntime: 1 }),
  transitionCase("ReverseEnter + ReverseLeave pair, depth 64", "pair", 64, (tm, n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += tm.reverseEnterRuntime();
      s += tm.reverseLeaveRuntime();
    }
    return s;
  }, { reverseEnterRuntime: 1, reverseLeaveRuntime: 1 }),
  transitionCase("LeaveRuntime + EnterRuntime pair, depth 64", "pair", 64, (tm, n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += tm.leaveRuntime(0x1000);
      s += tm.enterRuntime();
    }
    return s;
  }, { leaveRuntime: 1, enterRuntime: 1 }),

  // The floor under the transitions.
  {
    name: "empty JS function, 2 calls",
    group: "floor",
    op: "pair",
    async setup() {
      function empty() {}
      return {
        run(n) {
          let s = 0;
          for (let i = 0; i < n; i++) {
            empty();
            empty();
            s++;
          }
          return s;
        },
        verify(iterations, sink) {
          if (sink !== iterations) fail(`empty JS: sink ${sink}`);
        },
      };
    },
  },
  {
    name: "empty wasm function, 2 calls",
    group: "floor",
    op: "pair",
    async setup() {
      const { exports } = await WebAssembly.instantiate(await WebAssembly.compile(EMPTY_WASM));
      const f = exports.f;
      return {
        run(n) {
          let s = 0;
          for (let i = 0; i < n; i++) {
            f();
            f();
            s++;
          }
          return s;
        },
        verify(iterations, sink) {
          if (sink !== iterations) fail(`empty wasm: sink ${sink}`);
        },
      };
    },
  },
  referenceCase("plain-TS reference: ReverseEnter + ReverseLeave pair", "pair", 0, (ref, n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += ref.reverseEnterRuntime();
      s += ref.reverseLeaveRuntime();
    }
    return s;
  }, { reverseEnterRuntime: 1, reverseLeaveRuntime: 1 }),
  referenceCase("plain-TS reference: LeaveRuntime + EnterRuntime pair", "pair", 1, (ref, n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += ref.leaveRuntime(0x1000);
      s += ref.enterRuntime();
    }
    return s;
  }, { leaveRuntime: 1, enterRuntime: 1 }),
  referenceCase("plain-TS reference: six-step nested sequence", "sequence", 1, (ref, n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += ref.leaveRuntime(0xa);
      s += ref.reverseEnterRuntime();
      s += ref.leaveRuntime(0xb);
      s += ref.enterRuntime();
      s += ref.reverseLeaveRuntime();
      s += ref.enterRuntime();
    }
    return s;
  }, { leaveRuntime: 2, enterRuntime: 2, reverseEnterRuntime: 1, reverseLeaveRuntime: 1 }),

  // Fiber switches: fiberhost, its floor (a raw generator) and its peers (async/await, Effect).
  {
    name: "fiberhost switch (f.yield ping-pong)",
    group: "switches",
    op: "switch",
    opsPerIter: 2,
    async setup() {
      const host = await createHost({ clock: "virtual" });
      const box = { count: 0 };
      function* player(f, k) {
        for (let i = 0; i < k; i++) {
          box.count++;
          yield* f.yield();
        }
      }
      const switchesBefore = host.counters().switchIn;
      return {
        run(k) {
          const before = box.count;
          host.spawn(player, { param: k });
          host.spawn(player, { param: k });
          host.runUntilIdle();
          return box.count - before;
        },
        verify(iterations, sink) {
          if (sink !== 2 * iterations) fail(`ping-pong: ${sink} yields, expected ${2 * iterations}`);
          const switches = host.counters().switchIn - switchesBefore;
          if (switches < 2 * iterations) fail(`ping-pong: ${switches} switches, expected at least ${2 * iterations}`);
        },
      };
    },
  },
  {
    name: "raw generator yield round trip",
    group: "switches",
    op: "switch",
    async setup() {
      function* counter() {
        let i = 0;
        for (;;) yield i++;
      }
      const g = counter();
      return {
        run(n) {
          let s = 0;
          for (let i = 0; i < n; i++) s += g.next().value;
          return s;
        },
        verify(iterations) {
          const next = g.next().value;
          if (next !== iterations) fail(`generator: at ${next}, expected ${iterations}`);
        },
      };
    },
  },
  {
    name: "async/await ping-pong (resolved promises)",
    group: "switches",
    op: "switch",
    opsPerIter: 2,
    async setup() {
      const resolved = Promise.resolve();
      async function player(box, k) {
        for (let i = 0; i < k; i++) {
          box.count++;
          await resolved; // one microtask: the other player runs in between
        }
      }
      return {
        run(k) {
          const box = { count: 0 };
          return Promise.all([player(box, k), player(box, k)]).then(() => box.count);
        },
        verify(iterations, sink) {
          if (sink !== 2 * iterations) fail(`async ping-pong: ${sink}, expected ${2 * iterations}`);
        },
      };
    },
  },
  {
    // Not a target: a hand-off where each side awaits a promise that the other resolves (a
    // channel's cost), next to the cheapest ping-pong above.
    name: "async/await hand-off (each resolves the other's promise)",
    group: "switches",
    op: "switch",
    opsPerIter: 2,
    async setup() {
      return {
        run(k) {
          const box = { count: 0 };
          const wake = [null, null];
          const handOff = (to) => {
            const w = wake[to];
            wake[to] = null;
            if (w) w();
          };
          async function player(me, other) {
            for (let i = 0; i < k; i++) {
              box.count++;
              const mine = new Promise((resolve) => (wake[me] = resolve));
              handOff(other);
              await mine;
            }
            handOff(other);
          }
          return Promise.all([player(0, 1), player(1, 0)]).then(() => box.count);
        },
        verify(iterations, sink) {
          if (sink !== 2 * iterations) fail(`async hand-off: ${sink}, expected ${2 * iterations}`);
        },
      };
    },
  },
  effectCase("Effect switch (yieldNow, default scheduler)", false),
  effectCase("Effect switch (yieldNow, sync scheduler)", true),

  // Scale.
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
    name: "1,000,000 parked fibers: spawn + park",
    group: "scale",
    op: "fiber",
    measure: measureParked,
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
      if (box.entered !== N || host.countManaged() !== N) fail(`suspend: ${box.entered} entered, ${host.countManaged()} managed`);
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
        verify(iterations, sink) {
          if (sink !== 0) fail(`suspend/resume answered failures (sum ${sink})`);
          if (box.entered !== N || host.countManaged() !== N) fail("suspend: a held fiber ran");
        },
      };
    },
  },

  // Bulk work: the core's pass over its task table versus the same count in JS over Task objects.
  bulkCase("countManaged() in the core, 100,000 fibers", (h) => h.host.countManaged()),
  bulkCase("tasks.filter(mode === 'managed') in JS, 100,000 fibers", (h) => h.tasks.filter((t) => t.mode === "managed").length),
  bulkCase("for loop over tasks (t.mode) in JS, 100,000 fibers", (h) => {
    const tasks = h.tasks;
    let c = 0;
    for (let i = 0; i < tasks.length; i++) if (tasks[i].mode === "managed") c++;
    return c;
  }),
];

/** Two forked Effect fibers, each looping over `yield* Effect.yieldNow`. */
function effectCase(name, sync) {
  return {
    name,
    group: "switches",
    op: "switch",
    opsPerIter: 2,
    async setup() {
      const Effect = await import("effect/Effect");
      const Fiber = await import("effect/Fiber");
      const { MixedScheduler } = await import("effect/Scheduler");
      const options = sync ? { scheduler: new MixedScheduler("sync") } : undefined;
      return {
        run(k) {
          const box = { count: 0 };
          const loop = Effect.gen(function* () {
            for (let i = 0; i < k; i++) {
              box.count++;
              yield* Effect.yieldNow;
            }
          });
          const program = Effect.gen(function* () {
            const a = yield* Effect.forkChild(loop);
            const b = yield* Effect.forkChild(loop);
            yield* Fiber.join(a);
            yield* Fiber.join(b);
          });
          return Effect.runPromise(program, options).then(() => box.count);
        },
        verify(iterations, sink) {
          if (sink !== 2 * iterations) fail(`Effect ping-pong: ${sink}, expected ${2 * iterations}`);
        },
      };
    },
  };
}

/** 100,000 parked fibers, every other one in managed mode; shared by the bulk cases of a process. */
let bulkHost = null;
async function bulkFibers() {
  if (bulkHost) return bulkHost;
  const N = 100_000;
  const host = await createHost({ clock: "virtual" });
  const ev = host.createManualEvent(false);
  function* body(f, i) {
    if (i & 1) yield* f.managed(() => ev.wait());
    else yield* ev.wait();
  }
  const tasks = [];
  for (let i = 0; i < N; i++) tasks.push(host.spawn(body, { param: i }));
  host.runUntilIdle();
  if (host.liveTaskCount !== N + 1) fail(`bulk: ${host.liveTaskCount - 1} live fibers, expected ${N}`);
  bulkHost = { host, tasks, managed: N / 2 };
  return bulkHost;
}

function bulkCase(name, count) {
  return {
    name,
    group: "bulk",
    op: "count",
    async setup() {
      const h = await bulkFibers();
      return {
        run(n) {
          let s = 0;
          for (let i = 0; i < n; i++) s += count(h);
          return s;
        },
        verify(iterations, sink) {
          if (sink !== iterations * h.managed) fail(`${name}: counted ${sink / iterations} per pass, expected ${h.managed}`);
        },
      };
    },
  };
}

/**
 * 1,000,000 fibers parked at once, each waiting on one manual event (the same one). Measured once
 * per process, from a fresh host: the time to spawn and park them, the memory they hold (RSS in
 * Node, the JS heap where performance.memory exists, and the core's linear memory), and the time
 * to wake them all and let them end.
 */
async function measureParked(env) {
  const N = 1_000_000;
  const host = await createHost({ clock: "virtual" });
  const ev = host.createManualEvent(false);
  const box = { woke: 0 };
  function* body() {
    if ((yield* ev.wait()) === S_OK) box.woke++;
  }
  // Warm the paths up on a separate host and event, small enough not to matter to the memory.
  {
    const warm = await createHost({ clock: "virtual" });
    const wev = warm.createManualEvent(false);
    function* wbody() {
      yield* wev.wait();
    }
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
  if (box.woke !== N || host.liveTaskCount !== 1) fail(`parked: ${box.woke} woke, ${host.liveTaskCount - 1} still live`);
  const metrics = {
    "parked: core memory per fiber (bytes)": coreBytes / N,
    "parked: wake + exit per fiber (ns)": ((t3 - t2) * 1e6) / N,
  };
  const notes = [];
  if (m0?.rss !== undefined && m1?.rss !== undefined) {
    metrics["parked: RSS delta (MB)"] = (m1.rss - m0.rss) / 2 ** 20;
    metrics["parked: RSS delta per fiber (bytes)"] = (m1.rss - m0.rss) / N;
  } else if (m0?.browserRss !== undefined && m1?.browserRss !== undefined) {
    metrics["parked: browser processes' RSS delta (MB)"] = (m1.browserRss - m0.browserRss) / 2 ** 20;
    metrics["parked: browser processes' RSS delta per fiber (bytes)"] = (m1.browserRss - m0.browserRss) / N;
    notes.push("RSS: a page cannot read it; the runner read the RSS of the browser's processes (the renderer among them) from /proc just before and after the fibers parked");
  } else {
    notes.push("RSS: not measurable in a page (no process.memoryUsage); the JS heap and the core's memory are reported instead");
  }
  if (m0?.heap !== undefined && m1?.heap !== undefined) {
    metrics["parked: JS heap delta per fiber (bytes)"] = (m1.heap - m0.heap) / N;
    metrics["parked: JS heap + core memory (MB)"] = (m1.heap - m0.heap + coreBytes) / 2 ** 20;
  } else {
    notes.push("JS heap: performance.memory is not available in this engine");
  }
  return { samplesNs: [((t1 - t0) * 1e6) / N], sink: box.woke, metrics, notes };
}

// --- suites: the cases one process measures ------------------------------------------------------

/** Cases measured in one process. Ratios are taken only between cases of the same suite. */
export const SUITES = {
  transitions: [
    "ReverseEnter + ReverseLeave pair",
    "LeaveRuntime + EnterRuntime pair",
    "six-step nested sequence",
    "ReverseEnter + ReverseLeave pair, depth 64",
    "LeaveRuntime + EnterRuntime pair, depth 64",
    "empty JS function, 2 calls",
    "empty wasm function, 2 calls",
    "plain-TS reference: ReverseEnter + ReverseLeave pair",
    "plain-TS reference: LeaveRuntime + EnterRuntime pair",
    "plain-TS reference: six-step nested sequence",
  ],
  switches: [
    "fiberhost switch (f.yield ping-pong)",
    "raw generator yield round trip",
    "async/await ping-pong (resolved promises)",
    "async/await hand-off (each resolves the other's promise)",
    "Effect switch (yieldNow, default scheduler)",
    "Effect switch (yieldNow, sync scheduler)",
  ],
  spawn: ["spawn + run + exit (1,000,000 fibers)"],
  // Alone in its process, and first: the memory it measures is not blurred by other cases' garbage.
  parked: ["1,000,000 parked fibers: spawn + park"],
  runtime: [
    "suspend + resume, 10,000 fibers held in managed mode",
    "countManaged() in the core, 100,000 fibers",
    "tasks.filter(mode === 'managed') in JS, 100,000 fibers",
    "for loop over tasks (t.mode) in JS, 100,000 fibers",
  ],
};

/** Ratios of two cases' medians in the same process: numerator / denominator. */
export const RATIOS = [
  ["ReverseEnter + ReverseLeave pair / two empty wasm calls", "ReverseEnter + ReverseLeave pair", "empty wasm function, 2 calls"],
  ["LeaveRuntime + EnterRuntime pair / two empty wasm calls", "LeaveRuntime + EnterRuntime pair", "empty wasm function, 2 calls"],
  ["ReverseEnter + ReverseLeave pair / plain-TS reference pair", "ReverseEnter + ReverseLeave pair", "plain-TS reference: ReverseEnter + ReverseLeave pair"],
  ["LeaveRuntime + EnterRuntime pair / plain-TS reference pair", "LeaveRuntime + EnterRuntime pair", "plain-TS reference: LeaveRuntime + EnterRuntime pair"],
  ["six-step sequence / plain-TS reference six-step", "six-step nested sequence", "plain-TS reference: six-step nested sequence"],
  ["ReverseEnter + ReverseLeave pair: depth 64 / depth 1", "ReverseEnter + ReverseLeave pair, depth 64", "ReverseEnter + ReverseLeave pair"],
  ["LeaveRuntime + EnterRuntime pair: depth 64 / depth 1", "LeaveRuntime + EnterRuntime pair, depth 64", "LeaveRuntime + EnterRuntime pair"],
  ["fiberhost switch / raw generator round trip", "fiberhost switch (f.yield ping-pong)", "raw generator yield round trip"],
  ["Effect switch (default scheduler) / fiberhost switch", "Effect switch (yieldNow, default scheduler)", "fiberhost switch (f.yield ping-pong)"],
  ["Effect switch (sync scheduler) / fiberhost switch", "Effect switch (yieldNow, sync scheduler)", "fiberhost switch (f.yield ping-pong)"],
  ["async/await switch / fiberhost switch", "async/await ping-pong (resolved promises)", "fiberhost switch (f.yield ping-pong)"],
  ["JS filter / core countManaged()", "tasks.filter(mode === 'managed') in JS, 100,000 fibers", "countManaged() in the core, 100,000 fibers"],
  ["JS for loop / core countManaged()", "for loop over tasks (t.mode) in JS, 100,000 fibers", "countManaged() in the core, 100,000 fibers"],
].map(([name, num, den]) => ({ name, num, den }));

/** The targets (set for Node 20): a ratio or a derived metric against a limit. */
export const TARGETS = [
  { name: "ReverseEnter + ReverseLeave pair / two empty wasm calls", ratio: "ReverseEnter + ReverseLeave pair / two empty wasm calls", op: "<=", limit: 1.0 },
  { name: "transition pair / plain-TS reference pair (ReverseEnter + ReverseLeave)", ratio: "ReverseEnter + ReverseLeave pair / plain-TS reference pair", op: "<=", limit: 1.2 },
  { name: "transition pair / plain-TS reference pair (LeaveRuntime + EnterRuntime)", ratio: "LeaveRuntime + EnterRuntime pair / plain-TS reference pair", op: "<=", limit: 1.2 },
  { name: "f.yield() switch / raw generator round trip", ratio: "fiberhost switch / raw generator round trip", op: "<=", limit: 2.5 },
  { name: "Effect yieldNow switch / fiberhost switch", ratio: "Effect switch (default scheduler) / fiberhost switch", op: ">=", limit: 20 },
  { name: "async/await switch / fiberhost switch", ratio: "async/await switch / fiberhost switch", op: ">=", limit: 1.5 },
  // In a page, the RSS of the browser's processes (read from /proc by the runner) stands in.
  { name: "1,000,000 parked fibers: RSS (MB)", metric: ["parked: RSS delta (MB)", "parked: browser processes' RSS delta (MB)"], op: "<=", limit: 512 },
  { name: "spawn + run + exit (fibers/s)", metric: "spawn + run + exit: fibers per second", op: ">=", limit: 1_000_000 },
];

// --- the harness -----------------------------------------------------------------------------------

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Calls run(n) and times it; awaits only when the case is asynchronous (outside the sync timing). */
async function timed(env, inst, n) {
  const t0 = env.now();
  let r = inst.run(n);
  if (r !== null && typeof r === "object" && typeof r.then === "function") r = await r;
  return { ms: env.now() - t0, sink: r };
}

/** A case being measured: its instance, its iterations and sink so far, and its samples. */
class Measured {
  constructor(c, inst, env) {
    this.c = c;
    this.inst = inst;
    this.env = env;
    this.n = 1;
    this.iterations = 0;
    this.sink = 0;
    this.samplesNs = [];
  }
  async call(n) {
    const r = await timed(this.env, this.inst, n);
    this.iterations += n;
    this.sink += r.sink;
    return r.ms;
  }
  /** ns per operation of a call of n iterations. */
  async sample(n) {
    return ((await this.call(n)) * 1e6) / (n * (this.c.opsPerIter ?? 1));
  }
  /**
   * Grows n until a call takes about plan.sampleMs. A cold call (the first at a size, before the
   * JIT has caught up) is slow, so the size is taken from the faster of two calls.
   */
  async calibrate(plan) {
    let n = this.n;
    for (;;) {
      const ms = await this.call(n);
      if (ms >= plan.sampleMs / 8 || n >= 2 ** 30) {
        this.n = Math.max(1, Math.round((n * plan.sampleMs) / Math.max(ms, 1e-3)));
        const again = await this.call(this.n);
        this.resizeFrom([ms / n, again / this.n], plan);
        return;
      }
      n *= 4;
    }
  }
  /**
   * Sizes n to plan.sampleMs from measured ms per iteration: their median, so that one reading
   * below the timer's resolution (a page's clock is coarse) cannot blow n up; and by at most 16
   * times either way at once.
   */
  resizeFrom(msPerIter, plan) {
    const per = median(msPerIter.filter((x) => x > 0));
    const want = Number.isFinite(per) ? plan.sampleMs / per : this.n * 16;
    this.n = Math.max(1, Math.round(Math.min(this.n * 16, Math.max(this.n / 16, want))));
  }
}

/**
 * The timed cases of a suite, measured together: each is calibrated, then all are warmed up in
 * turns (so every path of the suite is hot, as in a program that uses them all, before any is
 * measured), re-sized, and sampled in turns, one sample of each case per round, so that drift
 * over time (the JIT, the GC, another process) falls on every case alike.
 */
async function measureTogether(cases, env, plan) {
  const ms = [];
  for (const c of cases) ms.push(new Measured(c, await c.setup(env), env));
  for (const m of ms) await m.calibrate(plan);
  const spent = ms.map(() => 0);
  const perIter = ms.map(() => []);
  while (spent.some((t) => t < plan.warmupMs)) {
    for (let i = 0; i < ms.length; i++) {
      if (spent[i] >= plan.warmupMs) continue;
      const t = await ms[i].call(ms[i].n);
      spent[i] += t;
      perIter[i].push(t / ms[i].n);
    }
  }
  // The JIT has sped the loops up during the warm-up: size the samples again, from the second
  // half of the warm-up calls (the first may still have been cold).
  ms.forEach((m, i) => m.resizeFrom(perIter[i].slice(perIter[i].length >> 1), plan));
  for (let round = 0; round < plan.samples; round++) {
    for (const m of ms) m.samplesNs.push(await m.sample(m.n));
  }
  for (const m of ms) m.inst.verify(m.iterations, m.sink);
  return ms.map((m) => ({ samplesNs: m.samplesNs, sink: m.sink, iterations: m.iterations }));
}

/** A case with a fixed n (a million fibers): one warm-up call, then plan.fixedSamples samples. */
async function measureFixed(c, env, plan) {
  const m = new Measured(c, await c.setup(env), env);
  await m.call(c.warmupN ?? c.fixedN);
  for (let i = 0; i < plan.fixedSamples; i++) m.samplesNs.push(await m.sample(c.fixedN));
  m.inst.verify(m.iterations, m.sink);
  return { samplesNs: m.samplesNs, sink: m.sink, iterations: m.iterations };
}

/**
 * Runs one suite in this process (or page) and answers its raw results: per case the samples
 * (ns/op), the sink and the metrics; per ratio its value in this process.
 * env: { quick, now(), gc?(), memory() -> { rss?, heap?, browserRss? } | null (or a promise), log(message) }.
 */
export async function runSuite(suite, env) {
  const names = SUITES[suite];
  if (!names) fail(`no suite ${suite}; suites: ${Object.keys(SUITES).join(", ")}`);
  const plan = env.quick ? PLANS.quick : PLANS.full;
  const all = names.map((name) => CASES.find((x) => x.name === name) ?? fail(`suite ${suite} names an unknown case ${name}`));
  const results = new Map();
  const t0 = env.now();
  for (const c of all) {
    if (c.measure) results.set(c, await c.measure(env, plan));
    else if (c.fixedN !== undefined) results.set(c, await measureFixed(c, env, plan));
  }
  const together = all.filter((c) => !c.measure && c.fixedN === undefined);
  if (together.length) {
    const rs = await measureTogether(together, env, plan);
    together.forEach((c, i) => results.set(c, rs[i]));
  }
  const cases = {};
  const metrics = {};
  const notes = [];
  for (const c of all) {
    const r = results.get(c);
    Object.assign(metrics, r.metrics ?? {});
    notes.push(...(r.notes ?? []));
    const med = median(r.samplesNs);
    cases[c.name] = { group: c.group, op: c.op, samplesNs: r.samplesNs, medianNs: med, sink: r.sink };
    env.log(`  ${c.name}: ${fmtNs(med)}/${c.op}  (sink ${r.sink})`);
  }
  env.log(`  (${((env.now() - t0) / 1000).toFixed(1)} s)`);
  if (cases["spawn + run + exit (1,000,000 fibers)"]) {
    metrics["spawn + run + exit: fibers per second"] = 1e9 / cases["spawn + run + exit (1,000,000 fibers)"].medianNs;
  }
  const sHeld = cases["suspend + resume, 10,000 fibers held in managed mode"];
  if (sHeld) metrics["suspend + resume: per held fiber (ns)"] = sHeld.medianNs / 10_000;
  const ratios = {};
  for (const r of RATIOS) {
    if (cases[r.num] && cases[r.den]) ratios[r.name] = cases[r.num].medianNs / cases[r.den].medianNs;
  }
  return { suite, cases, metrics, ratios, notes };
}

export function fmtNs(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toPrecision(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toPrecision(3)} µs`;
  return `${ns.toPrecision(3)} ns`;
}
