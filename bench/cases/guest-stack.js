// The per-fiber guest stack (src/interop/stack-finder.ts, shadow-stack.ts): what keeping a parked call's
// linear-memory frames costs on a suspension round trip of the C guest (examples/c-guest, clang +
// wasi-libc, asyncified), 1 and 100 fibers, beside the same round trip with nothing kept (stack
// 'none': correct only with one fiber, whose calls are last-in-first-out) and the serial fallback.
// keep(v) parks with a 16-byte frame; deep(16, v) with 17 frames of recursion (544 bytes).
// Part of the interop suite (bench/interop-cases.js), on its shared host: a second host in the
// process makes the hooked crossings' call sites see two doors' transitions (polymorphic, not
// folded to constants), which took the suite's hooked import from 10 to 29 ns.

import { findStack } from "../../dist/interop/stack-finder.js";
import { cGuestBytes, SUSPENDING } from "../../examples/c-guest/generated/c-guest-wasm.js";
import { fail } from "./support.js";

/** wasi-libc's stdio imports, answering as a closed stdout would: the benchmarks never print. */
const WASI = {
  wasi_snapshot_preview1: {
    fd_write: () => 8,
    fd_fdstat_get: () => 8,
    fd_seek: () => 8,
    fd_close: () => 8,
  },
};

let shared = null;
/**
 * Four instances of the C guest on the interop suite's host (`sharedHost()`): its stack per fiber,
 * not kept, serial (host.pause answers a resolved promise), and one whose pause answers at once,
 * for the answers.
 */
async function cGuests(sharedHost) {
  if (shared) return shared;
  const host = await sharedHost();
  const load = async (stack, pause) => {
    const g = await host.instantiate(
      cGuestBytes("exported"),
      { ...WASI, host: { pause, peek: (_p, n) => n } },
      { suspending: SUSPENDING, stack },
    );
    g.exports._initialize();
    return g;
  };
  const parks = (v) => Promise.resolve(v);
  shared = {
    host,
    perFiber: await load("auto", parks),
    none: await load("none", parks),
    serial: await load("serial", parks),
    sync: await load("none", (v) => v),
  };
  if (shared.perFiber.stack !== "per-fiber" || shared.serial.stack !== "serial") fail("guest-stack: wrong stack kinds");
  return shared;
}

/** `fibers` fibers each making n f.calls of export `name` (which parks once) on instance `kind`. */
function roundTrips(sharedHost, label, fibers, kind, name, args) {
  return {
    name: label,
    group: "interop",
    op: "round trip",
    opsPerIter: fibers,
    async setup() {
      const g = await cGuests(sharedHost);
      const guest = g[kind];
      const fn = guest.exports[name];
      const one = g.sync.exports[name](...args); // what each call answers
      const sp = guest.exports.__stack_pointer;
      const before = sp.value;
      return {
        async run(n) {
          const box = { s: 0 };
          for (let k = 0; k < fibers; k++) {
            g.host.spawn(function* (f) {
              for (let i = 0; i < n; i++) {
                const r = yield* f.call(fn, ...args); // box.s read after the wait: other fibers add meanwhile
                box.s += r;
              }
            });
          }
          await g.host.run();
          return box.s;
        },
        verify(iterations, sink) {
          const want = iterations * fibers * one;
          if (sink !== want) fail(`${label}: sink ${sink}, expected ${want}`);
          if (sp.value !== before) fail(`${label}: the stack pointer moved from ${before} to ${sp.value}`);
        },
      };
    },
  };
}

/**
 * The switch itself, without the round trip around it (whose promise and run-loop turn dwarf it
 * and move with the machine's load): what a park adds (read the stack pointer, copy the frames
 * out, put the pointer back) and what a resume adds (read it, copy the frames back, point the
 * stack at them), through a ShadowStack as instantiate makes it, on the C guest's memory and its
 * __stack_pointer global (and the guest's own move of the pointer to where a park finds it). `fibers` calls park, then all resume: one iteration is `fibers`
 * park + resume pairs.
 */
function switchCost(sharedHost, label, bytes, fibers) {
  return {
    name: label,
    group: "interop",
    op: "park + resume",
    opsPerIter: fibers,
    async setup() {
      const g = (await cGuests(sharedHost)).perFiber;
      const global = g.exports.__stack_pointer;
      // The instance's own plan: the same pointer access (through the small module that imports the global).
      const s = findStack("auto", "asyncify", g.module, g.instance.exports, {}).stack;
      const entry = global.value;
      const parked = new Array(fibers).fill(null);
      return {
        run(n) {
          let sink = 0;
          for (let i = 0; i < n; i++) {
            for (let k = 0; k < fibers; k++) {
              s.sp = entry - bytes; // where the call's frames end when it parks
              const frames = s.takeFrames(entry);
              s.sp = entry;
              parked[k] = frames;
            }
            for (let k = 0; k < fibers; k++) {
              const now = s.sp;
              sink += parked[k].length;
              s.putFrames(parked[k], entry);
              s.sp = now;
              parked[k] = null;
            }
          }
          return sink;
        },
        verify(iterations, sink) {
          if (sink !== iterations * fibers * bytes) fail(`${label}: sink ${sink}`);
          if (global.value !== entry) fail(`${label}: the stack pointer moved`);
        },
      };
    },
  };
}

/** The cases, given the interop suite's shared host (one host per process). */
export function guestStackCases(sharedHost) {
  return [
    switchCost(sharedHost, "per-fiber stack switch, 16-byte frames (keep), 1 fiber", 16, 1),
    switchCost(sharedHost, "per-fiber stack switch, 16-byte frames (keep), 100 fibers", 16, 100),
    switchCost(sharedHost, "per-fiber stack switch, 544-byte frames (deep(16)), 1 fiber", 544, 1),
    switchCost(sharedHost, "per-fiber stack switch, 544-byte frames (deep(16)), 100 fibers", 544, 100),
    roundTrips(sharedHost, "C guest round trip keep(), stack per fiber, 1 fiber", 1, "perFiber", "keep", [7]),
    roundTrips(sharedHost, "C guest round trip keep(), stack not kept, 1 fiber", 1, "none", "keep", [7]),
    roundTrips(sharedHost, "C guest round trip keep(), stack per fiber, 100 fibers", 100, "perFiber", "keep", [7]),
    roundTrips(sharedHost, "C guest round trip keep(), stack serial, 100 fibers", 100, "serial", "keep", [7]),
    roundTrips(sharedHost, "C guest round trip deep(16), stack per fiber, 1 fiber", 1, "perFiber", "deep", [16, 7]),
    roundTrips(sharedHost, "C guest round trip deep(16), stack not kept, 1 fiber", 1, "none", "deep", [16, 7]),
    roundTrips(
      sharedHost,
      "C guest round trip deep(16), stack per fiber, 100 fibers",
      100,
      "perFiber",
      "deep",
      [16, 7],
    ),
  ];
}

/** Ratios within the interop suite's process (numerator, denominator). */
export const GUEST_STACK_RATIOS = [
  [
    "C guest keep(): stack per fiber / not kept, 1 fiber",
    "C guest round trip keep(), stack per fiber, 1 fiber",
    "C guest round trip keep(), stack not kept, 1 fiber",
  ],
  [
    "C guest deep(16): stack per fiber / not kept, 1 fiber",
    "C guest round trip deep(16), stack per fiber, 1 fiber",
    "C guest round trip deep(16), stack not kept, 1 fiber",
  ],
  [
    "C guest keep(), 100 fibers: stack serial / per fiber",
    "C guest round trip keep(), stack serial, 100 fibers",
    "C guest round trip keep(), stack per fiber, 100 fibers",
  ],
];
