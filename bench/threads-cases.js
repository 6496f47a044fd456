// The cases of bench/threads.js (the runtime across workers, issue 22), one per fresh Node process
// or Chromium page: runCase(name) measures one and answers its raw figures. They measure dist/, the
// built package, as the rest of bench/ does. The page and the Node process run the same code.

import { createHost, createSharedCore } from "../dist/index.js";
import { EMPTY_WASM } from "./floor.js";
import { crunchAll } from "./threads-work.js";

/** Atomics.waitAsync (Node 20, Chromium; not in this TypeScript's lib yet). */
const waitAsync = /** @type {any} */ (Atomics).waitAsync;
const ENTRY = new URL("./threads-bodies.js", import.meta.url);
const PLAIN_WORKER = new URL("./threads-plain-worker.js", import.meta.url);
const inNode = typeof process !== "undefined" && process.versions?.node !== undefined;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** The nearest-rank quantile. */
const quantile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

/** Polls `cond` every ms until it holds (or throws after `limit` ms). */
async function until(cond, what, limit = 20_000, state = () => "") {
  const t0 = now();
  while (!cond()) {
    if (now() - t0 > limit) throw new Error(`timed out waiting for ${what} ${state()}`);
    await sleep(1);
  }
}

const machine = () => ({
  cores: inNode
    ? (process.getBuiltinModule?.("node:os")?.availableParallelism?.() ?? 0)
    : (navigator.hardwareConcurrency ?? 0),
  crossOriginIsolated: inNode ? undefined : globalThis.crossOriginIsolated,
});

// --- 1. The transition pair: shared core ÷ plain core ------------------------------------------
// A host of either kind alone in its process (bench/README "several hosts": two doors in one
// process change what V8 specialises), with the empty wasm call floor beside it; each loop is its
// own function and receives what it calls, as in bench/cases/transitions.js.

function pairs(tm, n) {
  let s = 0;
  for (let i = 0; i < n; i++) {
    s += tm.reverseEnterRuntime();
    s += tm.reverseLeaveRuntime();
  }
  return s;
}
function emptyCalls(f, n) {
  for (let i = 0; i < n; i++) {
    f();
    f();
  }
  return 0;
}

async function pairCase(kind) {
  const host = kind === "shared" ? await createSharedCore() : await createHost();
  const tm = host.taskManager;
  const empty = new WebAssembly.Instance(new WebAssembly.Module(EMPTY_WASM)).exports.f;
  const loops = [
    { name: "pair", run: (n) => pairs(tm, n) },
    { name: "floor", run: (n) => emptyCalls(empty, n) },
  ];
  let sink = 0;
  let done = 0;
  const time = (c, n) => {
    const t0 = now();
    sink += c.run(n);
    if (c.name === "pair") done += n;
    return now() - t0;
  };
  for (const c of loops) {
    c.n = 1;
    while (time(c, c.n) < 5 && c.n < 2 ** 30) c.n *= 2;
  }
  // Warm-up in turns (300 ms each), then resized to 20 ms samples from hot calls.
  for (let spent = 0; spent < 600; ) for (const c of loops) spent += time(c, c.n);
  for (const c of loops) c.n = Math.max(1, Math.round((c.n * 20) / Math.max(time(c, c.n), 0.01)));
  const samples = { pair: [], floor: [] };
  for (let r = 0; r < 25; r++) for (const c of loops) samples[c.name].push((time(c, c.n) * 1e6) / c.n);
  if (sink !== 0) throw new Error(`a transition failed (sum of HRESULTs ${sink})`);
  const c = host.rootTask.counters();
  if (c.reverseEnterRuntime !== done || c.reverseLeaveRuntime !== done)
    throw new Error(`the root counted ${c.reverseEnterRuntime} reverse enters, expected ${done}`);
  return { pairNs: median(samples.pair), floorNs: median(samples.floor) };
}

// --- 2. Stop-the-world across workers --------------------------------------------------------
// Suspend: suspendRuntimeAsync() until it settles, on the main thread's clock. Resume:
// resumeRuntime() until each worker's first held fiber, and its 1,000th (every held fiber, as they
// run in turn), counts a step: the fibers stamp those steps (performance.timeOrigin +
// performance.now(), threads-bodies.js), so the main thread does not spin on a core the workers need.

const wallNow = () => performance.timeOrigin + performance.now();
/** A suspension or a resume that has not happened after this long is lost (the longest seen otherwise: ~60 ms). */
const LOST_MS = 1000;

/** Polls `cond` every ms for up to `ms`: whether it came to hold. */
async function within(cond, ms) {
  const t0 = now();
  while (!cond()) {
    if (now() - t0 > ms) return false;
    await sleep(1);
  }
  return true;
}

async function stopTheWorld(threads, rounds = 200, warm = 20, fibers = 1000) {
  const host = await createHost({ threads, entry: ENTRY });
  try {
    const progress = host.workers.map(() => new SharedArrayBuffer(40));
    const words = progress.map((p) => new Int32Array(p, 0, 6));
    const stamps = progress.map((p) => new Float64Array(p, 24, 2));
    await Promise.all(
      host.workers.map((w, i) => host.spawnOn(w, "yielders", { progress: progress[i], n: fibers }).result),
    );
    await until(() => words.every((w) => Atomics.load(w, 0) > 10 * fibers), "the yielding fibers to run");
    const suspend = [];
    const resumeFirst = [];
    const resumeAll = [];
    // A round whose suspension never settles, or whose resume never reaches a worker (its doorbell
    // rang and went unheard: bench/README.md, the threads bench), is counted and the runtime
    // nudged on (resumed; suspended and resumed again: a second ring), not timed.
    let lostSuspends = 0;
    let lostResumes = 0;
    for (let r = 0; suspend.length < rounds; r++) {
      if (r > 2 * (warm + rounds)) throw new Error(`${lostSuspends + lostResumes} rounds of ${r} lost`);
      await sleep(1);
      const t0 = now();
      const pending = host.suspendRuntimeAsync();
      const hr = await Promise.race([pending, sleep(LOST_MS).then(() => "lost")]);
      const t1 = now();
      if (hr === "lost") {
        lostSuspends++;
        host.resumeRuntime();
        await pending;
        continue;
      }
      if (hr !== 0) throw new Error(`suspendRuntimeAsync answered ${hr}`);
      const held = words.map((w) => Atomics.load(w, 0));
      if (host.countManaged() !== fibers * threads)
        throw new Error(`countManaged() reads ${host.countManaged()} while suspended, expected ${fibers * threads}`);
      await sleep(1); // the workers had their chance to run a held fiber: none may have
      for (const [i, w] of words.entries()) {
        if (Atomics.load(w, 0) !== held[i]) throw new Error("a held fiber ran while the runtime was suspended");
        stamps[i][0] = stamps[i][1] = 0;
        Atomics.store(w, 3, held[i] + 1);
        Atomics.store(w, 4, held[i] + fibers);
      }
      const t2 = wallNow();
      if (host.resumeRuntime() !== 0) throw new Error("resumeRuntime failed");
      const allRan = () => stamps.every((s) => s[1] !== 0);
      if (!(await within(allRan, LOST_MS))) {
        lostResumes++;
        host.suspendRuntime();
        host.resumeRuntime();
        await until(allRan, "every held fiber to run again after a second resume");
        continue;
      }
      if (r < warm) continue;
      suspend.push((t1 - t0) * 1000);
      resumeFirst.push((Math.max(...stamps.map((s) => s[0])) - t2) * 1000);
      resumeAll.push((Math.max(...stamps.map((s) => s[1])) - t2) * 1000);
    }
    for (const w of words) Atomics.store(w, 1, 1);
    await until(() => words.every((w) => Atomics.load(w, 2) === fibers), "the fibers to end");
    const q = (xs) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: Math.max(...xs) });
    return {
      threads,
      rounds: suspend.length,
      lostSuspends,
      lostResumes,
      fibersPerWorker: fibers,
      suspendUs: q(suspend),
      resumeFirstUs: q(resumeFirst),
      resumeAllUs: q(resumeAll),
      samples: { suspend, resumeFirst, resumeAll },
    };
  } finally {
    await host.close();
  }
}

// --- 3. Cross-worker wake --------------------------------------------------------------------
// The main thread sets a shared auto event a fiber on the worker waits on. Two measures of one
// wake: one way, from set() to the fiber running, on two clocks (the fiber stamps
// performance.timeOrigin + performance.now()); and a round trip halved, on the main thread's clock
// alone (the fiber sets a second event a fiber on the (idle) main thread waits on; halved, so with
// a busy worker it averages the busy leg with an idle one).

async function wake(busy, rounds = 300, warm = 30, fibers = 1000) {
  const host = await createHost({ threads: 1, entry: ENTRY });
  try {
    const [w] = host.workers;
    const progress = new SharedArrayBuffer(40);
    const words = new Int32Array(progress, 0, 6);
    if (busy) {
      await host.spawnOn(w, "yielders", { progress, n: fibers }).result;
      await until(() => Atomics.load(words, 0) > 10 * fibers, "the yielding fibers to run");
    }
    const ev = host.createSharedAutoEvent();
    const back = host.createSharedAutoEvent();
    const sab = new SharedArrayBuffer(32);
    const seen = new Int32Array(sab, 0, 4);
    const stamp = new Float64Array(sab, 16, 1);
    const waiter = host.spawnOn(w, "waiter", { event: ev.handle, back: back.handle, sab, rounds: warm + rounds });
    const oneWay = [];
    const halfTrip = [];
    let lostWakes = 0;
    let lostBack = 0;
    let lostRounds = 0;
    // The busy worker's fibers must step during the case (not in every round: the woken waiter runs
    // before them, Scheduler.wakeFirst, and a round trip may end before their next step).
    const busyStart = busy ? Atomics.load(words, 0) : 0;
    for (let i = 1; i <= warm + rounds; i++) {
      await until(() => Atomics.load(seen, 1) === i, `the waiter's round ${i}`);
      let t1 = 0;
      const home = host.spawn(function* () {
        const hr = yield* back.wait();
        t1 = now();
        return hr;
      });
      // The waiter is about to wait: 1-2 ms more and it waits (an idle worker is back in its event
      // loop), and so does the main thread's fiber.
      await sleep(1);
      const t0 = now();
      if (ev.set() !== 0) throw new Error("set() failed");
      let hr = await Promise.race([home.result, sleep(LOST_MS).then(() => "lost")]);
      if (hr === "lost") {
        // A doorbell rang unheard (bench/README.md): ring the leg that was lost again (its event is
        // still set), count the round, do not time it.
        if (Atomics.load(seen, 0) === i) lostBack++;
        else lostWakes++;
        (Atomics.load(seen, 0) === i ? back : ev).set();
        hr = await home.result;
        if (i > warm) lostRounds++;
        continue;
      }
      if (hr !== 0) throw new Error("the main thread's wait failed");
      if (Atomics.load(seen, 0) !== i) throw new Error(`round ${i}: the waiter did not run`);
      if (i <= warm) continue;
      oneWay.push((stamp[0] - (performance.timeOrigin + t0)) * 1000);
      halfTrip.push(((t1 - t0) / 2) * 1000);
    }
    if ((await waiter.result) !== 0) throw new Error("a wait failed");
    if (busy && Atomics.load(words, 0) - busyStart < rounds) throw new Error("the busy worker's fibers did not run");
    if (busy) {
      Atomics.store(words, 1, 1);
      await until(() => Atomics.load(words, 2) === fibers, "the fibers to end");
    }
    const q = (xs) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), min: Math.min(...xs) });
    return {
      busy,
      rounds: oneWay.length,
      lostWakes,
      lostBack,
      lostRounds,
      oneWayUs: q(oneWay),
      halfTripUs: q(halfTrip),
      samples: { oneWay, halfTrip },
    };
  } finally {
    await host.close();
  }
}

/**
 * The floor under a wake: the same round trip with a raw Atomics.waitAsync ping-pong between the
 * main thread and a plain worker (no library), halved: what the engine's own wake costs here.
 */
async function wakeFloor(rounds = 300, warm = 30) {
  const worker = plainWorker();
  try {
    const sab = new SharedArrayBuffer(8);
    const w = new Int32Array(sab);
    const done = worker.start({ sab, rounds: warm + rounds });
    const halfTrip = [];
    for (let i = 1; i <= warm + rounds; i++) {
      await sleep(1);
      const t0 = now();
      Atomics.store(w, 0, i);
      Atomics.notify(w, 0);
      const r = waitAsync(w, 1, i - 1);
      if (r.async) await r.value;
      const t1 = now();
      if (Atomics.load(w, 1) !== i) throw new Error(`round ${i}: no pong`);
      if (i > warm) halfTrip.push(((t1 - t0) / 2) * 1000);
    }
    await done;
    return { rounds, halfTripUs: { p50: quantile(halfTrip, 0.5), p99: quantile(halfTrip, 0.99) } };
  } finally {
    await worker.end();
  }
}

// --- 4. A CPU-bound fiber workload on 1 and 2 workers, and the pure-CPU ceiling ---------------

function plainWorker() {
  if (inNode) {
    const { Worker } = process.getBuiltinModule("node:worker_threads");
    const w = new Worker(PLAIN_WORKER);
    return {
      run: (job) =>
        new Promise((r) => {
          w.once("message", (m) => r(m.sum));
          w.postMessage(job);
        }),
      start: (job) =>
        new Promise((r) => {
          w.once("message", () => r());
          w.postMessage(job);
        }),
      end: () => w.terminate(),
    };
  }
  const w = new Worker(PLAIN_WORKER, { type: "module" });
  return {
    run: (job) =>
      new Promise((r) => {
        w.addEventListener("message", (e) => r(e.data.sum), { once: true });
        w.postMessage(job);
      }),
    start: (job) =>
      new Promise((r) => {
        w.addEventListener("message", () => r(), { once: true });
        w.postMessage(job);
      }),
    end: () => w.terminate(),
  };
}

async function cpuBound(job = { fibers: 100, steps: 1000, iters: 2000 }, reps = 3) {
  const host = await createHost({ threads: 2, entry: ENTRY });
  const plain = [plainWorker(), plainWorker()];
  try {
    const split = (n, jb) => ({ ...jb, fibers: jb.fibers / n });
    const fibersOn = async (n, jb) => {
      const t0 = now();
      const sums = await Promise.all(host.workers.slice(0, n).map((w) => host.spawnOn(w, "cpu", split(n, jb)).result));
      return { ms: now() - t0, sums };
    };
    const plainOn = async (n, jb) => {
      const t0 = now();
      const sums = await Promise.all(plain.slice(0, n).map((p) => p.run(split(n, jb))));
      return { ms: now() - t0, sums };
    };
    // The same arithmetic, the same checksums: the fibers did the work the plain workers did.
    const small = { ...job, steps: job.steps / 10 };
    const [a, b] = [await fibersOn(2, small), await plainOn(2, small)];
    if (a.sums.join() !== b.sums.join() || a.sums[0] !== crunchAll(split(2, small)))
      throw new Error(`checksums differ: fibers ${a.sums}, plain ${b.sums}`);
    await fibersOn(1, small);
    await plainOn(1, small);
    const t = { fibers1: [], fibers2: [], plain1: [], plain2: [] };
    for (let r = 0; r < reps; r++) {
      t.fibers1.push((await fibersOn(1, job)).ms);
      t.fibers2.push((await fibersOn(2, job)).ms);
      t.plain1.push((await plainOn(1, job)).ms);
      t.plain2.push((await plainOn(2, job)).ms);
    }
    const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
    return {
      job,
      ms: m,
      samplesMs: t,
      fiberSpeedup: m.fibers1 / m.fibers2,
      plainSpeedup: m.plain1 / m.plain2,
      fibers1OverPlain1: m.fibers1 / m.plain1,
    };
  } finally {
    await host.close();
    for (const p of plain) await p.end();
  }
}

/** Every case by name: what one process (or page load) measures. */
export const CASES = {
  "pair-plain": () => pairCase("plain"),
  "pair-shared": () => pairCase("shared"),
  "stw-1": () => stopTheWorld(1),
  "stw-2": () => stopTheWorld(2),
  "stw-4": () => stopTheWorld(4),
  "wake-idle": () => wake(false),
  "wake-busy": () => wake(true),
  "wake-floor": () => wakeFloor(),
  cpu: () => cpuBound(),
};

export async function runCase(name) {
  if (!(name in CASES)) throw new Error(`no case ${name} (${Object.keys(CASES).join(", ")})`);
  const r = await CASES[name]();
  return { case: name, ...machine(), ...r };
}
