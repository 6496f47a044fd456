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
 * Several hosts in one process whose transitions go through one call site (alternate runs use one
 * host and the next): once a second host exists, every door's transitions are one shared function
 * (src/core/transitions.ts), so the call site stays monomorphic; each door's view is a field it
 * loads, where a lone host's closures fold theirs in. Alone in their suite (transitions-hosts): a
 * second host in the transitions suite's process would change what every case there measures.
 * Each case has hosts of its own (n = 1: one host's own call site in a process with several, the
 * "one host" of the ratios N hosts / one host; a host alone in its process is the transitions
 * suite's, whose doors keep their closures).
 */
function hostsCase(name, n, pairs) {
  return {
    name,
    group: "transitions",
    op: "pair",
    async setup() {
      const hosts = [];
      for (let i = 0; i < n; i++) hosts.push(await createHost());
      const tms = hosts.map((h) => h.taskManager);
      let turn = 0;
      // Every host through the loop from the start, so its feedback sees all of them.
      for (const tm of tms) pairs(tm, 1000);
      return {
        run(iterations) {
          turn = (turn + 1) % n;
          return pairs(tms[turn], iterations);
        },
        verify(iterations, sink) {
          if (sink !== 0) fail(`${n} hosts: a transition failed (sum of HRESULTs ${sink})`);
          const total = hosts.reduce((a, h) => a + h.rootTask.counters().reverseEnterRuntime, 0);
          const expected = iterations + 1000 * n;
          if (total !== expected) fail(`${n} hosts: ${total} reverse enters, expected ${expected}`);
        },
      };
    },
  };
}
// One loop per case, written out (see the top of this file): a loop shared by the cases would
// see every case's hosts.
export const TWO_HOST_CASES = [
  hostsCase("ReverseEnter + ReverseLeave pair, two hosts through one call site", 2, (tm, n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += tm.reverseEnterRuntime();
      s += tm.reverseLeaveRuntime();
    }
    return s;
  }),
  hostsCase("ReverseEnter + ReverseLeave pair, four hosts through one call site", 4, (tm, n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += tm.reverseEnterRuntime();
      s += tm.reverseLeaveRuntime();
    }
    return s;
  }),
  hostsCase("ReverseEnter + ReverseLeave pair, one host of several (its own call site)", 1, (tm, n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += tm.reverseEnterRuntime();
      s += tm.reverseLeaveRuntime();
    }
    return s;
  }),
];
