// What one process (page load) measures, the ratios taken between its cases, and the targets.

import { INTEROP_CASES, INTEROP_RATIOS } from "./interop-cases.js";

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
  // A second host in the transitions suite's process would change what it measures: its own process.
  "transitions-two-hosts": [
    "ReverseEnter + ReverseLeave pair, two hosts through one call site",
    "empty wasm function, 2 calls",
  ],
  switches: [
    "fiberhost switch (yield f.yield() ping-pong)",
    "fiberhost switch (yield* f.yield() ping-pong)",
    "raw generator yield round trip",
    "async/await ping-pong (resolved promises)",
    "async/await hand-off (each resolves the other's promise)",
    "Effect switch (yieldNow, default scheduler)",
    "Effect switch (yieldNow, sync scheduler)",
  ],
  spawn: ["spawn + run + exit (1,000,000 fibers)", "spawn + run + exit, f.spawn from a fiber (1,000,000 fibers)"],
  // Alone in its process, and first: the memory it measures is not blurred by other cases' garbage.
  parked: ["1,000,000 parked fibers: spawn + park"],
  // The same with `yield* f.wait(ev, INFINITE)` in bodies that keep `f`: its own process, as parked.
  "parked-f": ["1,000,000 parked fibers in f.wait(ev, INFINITE), keeping f: spawn + park"],
  runtime: [
    "suspend + resume, 10,000 fibers held in managed mode",
    "countManaged() in the core, 100,000 fibers",
    "tasks.filter(mode === 'managed') in JS, 100,000 fibers",
    "for loop over tasks (t.mode) in JS, 100,000 fibers",
  ],
  // Its own process: the hosts' external memory starts garbage collections that would blur others.
  hosts: ["createHost() with default options"],
  // bench/interop-cases.js (JSPI's cases only where the engine has JSPI).
  interop: INTEROP_CASES.map((c) => c.name),
};

/** Ratios of two cases' medians in the same process: numerator / denominator. */
export const RATIOS = [
  [
    "ReverseEnter + ReverseLeave pair / two empty wasm calls",
    "ReverseEnter + ReverseLeave pair",
    "empty wasm function, 2 calls",
  ],
  [
    "LeaveRuntime + EnterRuntime pair / two empty wasm calls",
    "LeaveRuntime + EnterRuntime pair",
    "empty wasm function, 2 calls",
  ],
  [
    "ReverseEnter + ReverseLeave pair / plain-TS reference pair",
    "ReverseEnter + ReverseLeave pair",
    "plain-TS reference: ReverseEnter + ReverseLeave pair",
  ],
  [
    "LeaveRuntime + EnterRuntime pair / plain-TS reference pair",
    "LeaveRuntime + EnterRuntime pair",
    "plain-TS reference: LeaveRuntime + EnterRuntime pair",
  ],
  [
    "six-step sequence / plain-TS reference six-step",
    "six-step nested sequence",
    "plain-TS reference: six-step nested sequence",
  ],
  [
    "ReverseEnter + ReverseLeave pair: depth 64 / depth 1",
    "ReverseEnter + ReverseLeave pair, depth 64",
    "ReverseEnter + ReverseLeave pair",
  ],
  [
    "LeaveRuntime + EnterRuntime pair: depth 64 / depth 1",
    "LeaveRuntime + EnterRuntime pair, depth 64",
    "LeaveRuntime + EnterRuntime pair",
  ],
  [
    "two hosts through one call site: pair / two empty wasm calls",
    "ReverseEnter + ReverseLeave pair, two hosts through one call site",
    "empty wasm function, 2 calls",
  ],
  [
    "fiberhost switch / raw generator round trip",
    "fiberhost switch (yield f.yield() ping-pong)",
    "raw generator yield round trip",
  ],
  [
    "fiberhost yield* switch / raw generator round trip",
    "fiberhost switch (yield* f.yield() ping-pong)",
    "raw generator yield round trip",
  ],
  [
    "Effect switch (default scheduler) / fiberhost switch",
    "Effect switch (yieldNow, default scheduler)",
    "fiberhost switch (yield f.yield() ping-pong)",
  ],
  [
    "Effect switch (sync scheduler) / fiberhost switch",
    "Effect switch (yieldNow, sync scheduler)",
    "fiberhost switch (yield f.yield() ping-pong)",
  ],
  [
    "async/await switch / fiberhost switch",
    "async/await ping-pong (resolved promises)",
    "fiberhost switch (yield f.yield() ping-pong)",
  ],
  [
    "async/await switch / fiberhost yield* switch",
    "async/await ping-pong (resolved promises)",
    "fiberhost switch (yield* f.yield() ping-pong)",
  ],
  [
    "spawn + run + exit: f.spawn from a fiber / host.spawn",
    "spawn + run + exit, f.spawn from a fiber (1,000,000 fibers)",
    "spawn + run + exit (1,000,000 fibers)",
  ],
  [
    "JS filter / core countManaged()",
    "tasks.filter(mode === 'managed') in JS, 100,000 fibers",
    "countManaged() in the core, 100,000 fibers",
  ],
  [
    "JS for loop / core countManaged()",
    "for loop over tasks (t.mode) in JS, 100,000 fibers",
    "countManaged() in the core, 100,000 fibers",
  ],
  ...INTEROP_RATIOS,
].map(([name, num, den]) => ({ name, num, den }));

/** The targets (issue 12, set for Node 20): a ratio or a derived metric against a limit, its floor in the same process. */
export const TARGETS = [
  {
    name: "ReverseEnter + ReverseLeave pair / two empty wasm calls",
    ratio: "ReverseEnter + ReverseLeave pair / two empty wasm calls",
    op: "<=",
    limit: 1.0,
  },
  {
    name: "transition pair / plain-TS reference pair (ReverseEnter + ReverseLeave)",
    ratio: "ReverseEnter + ReverseLeave pair / plain-TS reference pair",
    op: "<=",
    limit: 1.0,
  },
  {
    name: "transition pair / plain-TS reference pair (LeaveRuntime + EnterRuntime)",
    ratio: "LeaveRuntime + EnterRuntime pair / plain-TS reference pair",
    op: "<=",
    limit: 1.0,
  },
  {
    name: "yield f.yield() switch / raw generator round trip",
    ratio: "fiberhost switch / raw generator round trip",
    op: "<=",
    limit: 2.5,
  },
  {
    name: "Effect yieldNow switch / fiberhost switch",
    ratio: "Effect switch (default scheduler) / fiberhost switch",
    op: ">=",
    limit: 20,
  },
  {
    name: "async/await switch / fiberhost switch",
    ratio: "async/await switch / fiberhost switch",
    op: ">=",
    limit: 1.5,
  },
  // The whole process's RSS (issue 21), not its growth. A page cannot read its own: there the
  // growth of the browser's processes' RSS (read from /proc by the runner) stands in, as before
  // (their whole RSS counts the browser's other processes too, reported beside it).
  {
    name: "1,000,000 parked fibers in ev.wait(): RSS, whole process (MB)",
    metric: ["parked: RSS, whole process (MB)", "parked: browser processes' RSS delta (MB)"],
    op: "<=",
    limit: 400,
  },
  {
    name: "1,000,000 parked fibers in f.wait(ev, INFINITE), keeping f: RSS, whole process (MB)",
    metric: [
      "parked (f.wait, f kept): RSS, whole process (MB)",
      "parked (f.wait, f kept): browser processes' RSS delta (MB)",
    ],
    op: "<=",
    limit: 400,
  },
  {
    name: "spawn + run + exit (fibers/s)",
    metric: "spawn + run + exit: fibers per second",
    op: ">=",
    limit: 5_000_000,
  },
  {
    name: "spawn + run + exit, f.spawn from a fiber (fibers/s)",
    metric: "spawn + run + exit, f.spawn: fibers per second",
    op: ">=",
    limit: 5_000_000,
  },
];
