// The floor under the transitions: an empty JS function, an empty exported wasm function, and the
// plain-TS reference (bench/reference-ts.js) doing the same bookkeeping as the core on typed arrays.
// Each case has its own loop on purpose, written out rather than shared: a shared loop function
// would carry one set of type feedback for every case, and V8 would optimise it for none.

import { ReferenceTasks, REFERENCE_COUNTERS } from "./reference-ts.js";
import { COUNTER_KEYS, addFrameCounts, closeFrames, fail, openFrames } from "./cases/support.js";

/** (module (func (export "f"))): the cheapest call from JS into wasm. */
export const EMPTY_WASM = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // "\0asm", version 1
  0x01,
  0x04,
  0x01,
  0x60,
  0x00,
  0x00, //             type section: one type, () -> ()
  0x03,
  0x02,
  0x01,
  0x00, //                         function section: one function of type 0
  0x07,
  0x05,
  0x01,
  0x01,
  0x66,
  0x00,
  0x00, //       export section: "f" -> function 0
  0x0a,
  0x04,
  0x01,
  0x02,
  0x00,
  0x0b, //             code section: one body, no locals, end
]);

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
        verify(_iterations, sink) {
          if (sink !== 0) fail(`${name}: a transition failed (sum ${sink})`);
          const c = ref.countersOf(0);
          for (const k of COUNTER_KEYS) {
            if (c[REFERENCE_COUNTERS[k]] !== expected[k])
              fail(`${name}: ${k} reads ${c[REFERENCE_COUNTERS[k]]}, expected ${expected[k]}`);
          }
        },
      };
    },
  };
}

export const FLOOR_CASES = [
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
      const f = /** @type {() => void} */ (exports.f);
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
  referenceCase(
    "plain-TS reference: ReverseEnter + ReverseLeave pair",
    "pair",
    0,
    (ref, n) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += ref.reverseEnterRuntime();
        s += ref.reverseLeaveRuntime();
      }
      return s;
    },
    { reverseEnterRuntime: 1, reverseLeaveRuntime: 1 },
  ),
  referenceCase(
    "plain-TS reference: LeaveRuntime + EnterRuntime pair",
    "pair",
    1,
    (ref, n) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += ref.leaveRuntime(0x1000);
        s += ref.enterRuntime();
      }
      return s;
    },
    { leaveRuntime: 1, enterRuntime: 1 },
  ),
  referenceCase(
    "plain-TS reference: six-step nested sequence",
    "sequence",
    1,
    (ref, n) => {
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
    },
    { leaveRuntime: 2, enterRuntime: 2, reverseEnterRuntime: 1, reverseLeaveRuntime: 1 },
  ),
];
