// The transitions through the public API, on host.rootTask of one host per process (an application
// has one host; a second CoreDoor in the process changes what V8 can specialise). Their floor is in
// bench/floor.js.
// Each case has its own loop on purpose, written out rather than shared: a shared loop function
// would carry one set of type feedback for every case, and V8 would optimise it for none.

import { createHost } from "../../dist/index.js";
import { COUNTER_KEYS, addFrameCounts, closeFrames, fail, openFrames } from "./support.js";

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
        verify(_iterations, sink) {
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

export const TRANSITION_CASES = [
  transitionCase(
    "ReverseEnter + ReverseLeave pair",
    "pair",
    0,
    (tm, n) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += tm.reverseEnterRuntime();
        s += tm.reverseLeaveRuntime();
      }
      return s;
    },
    { reverseEnterRuntime: 1, reverseLeaveRuntime: 1 },
  ),
  transitionCase(
    "LeaveRuntime + EnterRuntime pair",
    "pair",
    1,
    (tm, n) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += tm.leaveRuntime(0x1000);
        s += tm.enterRuntime();
      }
      return s;
    },
    { leaveRuntime: 1, enterRuntime: 1 },
  ),
  transitionCase(
    "six-step nested sequence",
    "sequence",
    1,
    (tm, n) => {
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
    },
    { leaveRuntime: 2, enterRuntime: 2, reverseEnterRuntime: 1, reverseLeaveRuntime: 1 },
  ),
  transitionCase(
    "ReverseEnter + ReverseLeave pair, depth 64",
    "pair",
    64,
    (tm, n) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += tm.reverseEnterRuntime();
        s += tm.reverseLeaveRuntime();
      }
      return s;
    },
    { reverseEnterRuntime: 1, reverseLeaveRuntime: 1 },
  ),
  transitionCase(
    "LeaveRuntime + EnterRuntime pair, depth 64",
    "pair",
    64,
    (tm, n) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += tm.leaveRuntime(0x1000);
        s += tm.enterRuntime();
      }
      return s;
    },
    { leaveRuntime: 1, enterRuntime: 1 },
  ),
];

/**
 * Two hosts in one process whose transitions go through one call site (alternate runs use one and
 * the other host): the call site sees two doors' closures, so the optimiser can no longer fold
 * either door's views in. Alone in its suite (transitions-two-hosts): a second host in the
 * transitions suite's process would change what every case there measures.
 */
let twoHosts = null;
export const TWO_HOST_CASES = [
  {
    name: "ReverseEnter + ReverseLeave pair, two hosts through one call site",
    group: "transitions",
    op: "pair",
    async setup() {
      if (!twoHosts) twoHosts = [await createHost(), await createHost()];
      const tms = twoHosts.map((h) => h.taskManager);
      let turn = 0;
      function pairs(tm, n) {
        let s = 0;
        for (let i = 0; i < n; i++) {
          s += tm.reverseEnterRuntime();
          s += tm.reverseLeaveRuntime();
        }
        return s;
      }
      // Both hosts through the loop from the start, so its feedback sees two doors.
      pairs(tms[0], 1000);
      pairs(tms[1], 1000);
      return {
        run(n) {
          turn ^= 1;
          return pairs(tms[turn], n);
        },
        verify(iterations, sink) {
          if (sink !== 0) fail(`two hosts: a transition failed (sum of HRESULTs ${sink})`);
          const total = twoHosts.reduce((a, h) => a + h.rootTask.counters().reverseEnterRuntime, 0);
          if (total !== iterations + 2000) fail(`two hosts: ${total} reverse enters, expected ${iterations + 2000}`);
        },
      };
    },
  },
];
