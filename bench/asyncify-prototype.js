// The asyncify suspension round trip's floor (issue 21's "asyncify round trip ÷ f.await, 100
// fibers"): examples/guest's fetchOnce, whose suspending import answers a resolved promise, driven
// five ways in one process, beside f.await of a resolved promise:
//   raw sync    the raw asyncify unwind, copy out, copy back and rewind, no promise, no scheduler
//               (the mechanism alone: two calls into the guest, the import twice, four controls)
//   raw hop     the same, 100 loops each waiting for the promise (one reaction), no scheduler
//   proto       a fiber's f.await of the import's promise with the raw unwind before it and the
//               rewind after (no f.call: no transitions, no crossing of the import)
//   f.call      yield* f.call(fetchOnce) in 100 fibers: the library's round trip
//   f.call, 2nd host  the same while a second host's guest calls go through the same call sites
//               (the interop suite has one: bench/cases/guest-stack.js), which makes the door's
//               transition closures polymorphic
// Each in fresh processes; the ratios are taken within each process, their medians reported.
//
//   npm run build && node bench/asyncify-prototype.js [processes] [--cpu]
// --cpu times by the process's CPU time (a loaded machine: time spent descheduled is not counted).

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const FIBERS = 100;
const useCpu = process.argv.includes("--cpu");
const clock = useCpu
  ? () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    }
  : () => performance.now();
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One process: every way, measured in turns; ns per round trip by way, and the ratios to f.await. */
async function measure() {
  const { createHost } = await import("../dist/index.js");
  const { guestBytes, SUSPENDING } = await import("../dist/demo/generated/guest-wasm.js");
  const env = {
    host_add: (a, b) => a + b,
    host_fetch: (x) => Promise.resolve(x),
    host_callback: () => 0,
    host_fail: () => {},
    host_note: () => {},
  };
  const opts = { suspending: SUSPENDING, suspension: /** @type {const} */ ("asyncify"), target: () => 0x10 };
  const host = await createHost({ callNeedsHostHook: () => true });
  const g = await host.instantiate(guestBytes("asyncify"), { env }, opts);
  const fetchOnce = g.exports.fetchOnce;

  // The raw guest: its import unwinds (or, rewinding, stops the rewind and answers). Its own
  // copy of the unwind and rewind (not dist's Asyncify: a second instance through the library's
  // code would make its call sites polymorphic, and slow the f.call measured beside it).
  let rewinding = false;
  let pending = null;
  let value = 0;
  /** @type {any} */
  let ex = null;
  let at = 0;
  let i32 = null;
  let u8 = null;
  const rawEnv = {
    ...env,
    host_fetch: (x) => {
      if (rewinding) {
        rewinding = false;
        ex.asyncify_stop_rewind();
        return value;
      }
      pending = Promise.resolve(x);
      i32[at >> 2] = at + 8;
      i32[(at >> 2) + 1] = at + ex.asyncify_data_size();
      ex.asyncify_start_unwind(at);
      return 0;
    },
  };
  const bytes = /** @type {Uint8Array<ArrayBuffer>} */ (guestBytes("asyncify"));
  ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: rawEnv }).exports;
  at = ex.asyncify_data_address();
  i32 = new Int32Array(ex.memory.buffer);
  u8 = new Uint8Array(ex.memory.buffer);
  const size = ex.asyncify_data_size();
  /** Stops the unwind and copies the unwound stack into `stack` (a buffer per loop). */
  const unwound = (stack) => {
    ex.asyncify_stop_unwind();
    const n = i32[at >> 2] - at - 8;
    for (let j = 0; j < n; j++) stack[j] = u8[at + 8 + j];
    return n;
  };
  /** Copies `n` bytes of `stack` back and starts the rewind. */
  const rewind = (stack, n) => {
    for (let j = 0; j < n; j++) u8[at + 8 + j] = stack[j];
    i32[at >> 2] = at + 8 + n;
    i32[(at >> 2) + 1] = at + size;
    rewinding = true;
    ex.asyncify_start_rewind(at);
  };
  const rawFetch = ex.fetchOnce;

  const fibers = (body) => async (n) => {
    const box = { s: 0 };
    for (let k = 0; k < FIBERS; k++) host.spawn((f) => body(f, n, box));
    await host.run();
    return box.s;
  };
  const ways = {
    "raw sync": (n) => {
      let s = 0;
      const stack = new Uint8Array(64);
      for (let i = 0; i < n * FIBERS; i++) {
        rawFetch(1);
        const len = unwound(stack);
        value = 1;
        rewind(stack, len);
        s += rawFetch(1);
      }
      return s;
    },
    "raw hop": (n) =>
      new Promise((done) => {
        let live = FIBERS;
        let s = 0;
        for (let k = 0; k < FIBERS; k++) {
          let i = 0;
          let len = 0;
          const stack = new Uint8Array(64);
          const resume = (v) => {
            value = v;
            rewind(stack, len);
            s += rawFetch(1);
            if (++i < n) step();
            else if (--live === 0) done(s);
          };
          const step = () => {
            rawFetch(1);
            len = unwound(stack);
            pending.then(resume);
          };
          step();
        }
      }),
    "f.await": fibers(function* (f, n, box) {
      for (let i = 0; i < n; i++) {
        const r = yield* f.await(Promise.resolve(1));
        box.s += r;
      }
    }),
    proto: fibers(function* (f, n, box) {
      const stack = new Uint8Array(64);
      for (let i = 0; i < n; i++) {
        rawFetch(1);
        const len = unwound(stack);
        const p = pending;
        value = yield* f.await(p);
        rewind(stack, len);
        const r = rawFetch(1);
        box.s += r;
      }
    }),
    "f.call": fibers(function* (f, n, box) {
      for (let i = 0; i < n; i++) {
        const r = yield* f.call(fetchOnce, 1);
        box.s += r;
      }
    }),
  };
  const time = async (way, n) => {
    const t0 = clock();
    const s = await ways[way](n);
    const ms = clock() - t0;
    if (s !== n * FIBERS) throw new Error(`bench: ${way}: sink ${s}, expected ${n * FIBERS}`);
    return (ms * 1e6) / (n * FIBERS);
  };
  const n = 300;
  const names = Object.keys(ways);
  const samples = Object.fromEntries([...names, "f.call, 2nd host"].map((k) => [k, []]));
  const ratios = Object.fromEntries([...names, "f.call, 2nd host"].map((k) => [k, []]));
  for (let w = 0; w < 5; w++) for (const k of names) await time(k, n);
  const round = async (label, keys) => {
    for (let r = 0; r < 9; r++) {
      const row = {};
      for (const k of keys) row[k] = await time(k, n);
      for (const k of keys) {
        const as = k === "f.call" ? label : k;
        samples[as].push(row[k]);
        ratios[as].push(row[k] / row["f.await"]);
      }
    }
  };
  await round("f.call", names);
  // A second host, its guest called through the same code (as the interop suite's C guest host is).
  const host2 = await createHost({ callNeedsHostHook: () => true });
  const g2 = await host2.instantiate(guestBytes("asyncify"), { env }, opts);
  for (let k = 0; k < FIBERS; k++)
    host2.spawn(function* (f) {
      for (let i = 0; i < 300; i++) {
        yield* f.call(g2.exports.fetchOnce, 1);
        yield* f.call(g2.exports.add, 1, 1);
      }
    });
  await host2.run();
  for (let w = 0; w < 3; w++) await time("f.call", n);
  await round("f.call, 2nd host", ["f.await", "f.call"]);
  return Object.fromEntries(Object.keys(samples).map((k) => [k, { ns: median(samples[k]), ratio: median(ratios[k]) }]));
}

const self = fileURLToPath(import.meta.url);
if (process.argv[2] === "--worker") {
  process.stdout.write(JSON.stringify(await measure()));
} else {
  const processes = Number(process.argv.slice(2).find((x) => /^\d+$/.test(x)) ?? 5);
  const runs = [];
  for (let p = 0; p < processes; p++) {
    const args = [self, "--worker", ...(useCpu ? ["--cpu"] : [])];
    runs.push(JSON.parse(execFileSync(process.execPath, args, { encoding: "utf8" })));
  }
  console.log(
    `Node ${process.version}, ${processes} processes${useCpu ? ", CPU time" : ""}: median ns per round trip, median ratio to f.await (min … max over processes)`,
  );
  for (const k of Object.keys(runs[0])) {
    const rs = runs.map((r) => r[k].ratio);
    const ns = median(runs.map((r) => r[k].ns));
    console.log(
      `  ${k.padEnd(18)} ${ns.toFixed(0).padStart(6)} ns   ${median(rs).toFixed(2)}× (${Math.min(...rs).toFixed(2)} … ${Math.max(...rs).toFixed(2)})`,
    );
  }
}
