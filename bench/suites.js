// What one process (page load) measures, the ratios taken between its cases, and the targets.

import { EXTERNAL_CASES, INTEROP_CASES, INTEROP_RATIOS } from "./interop-cases.js";

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
    "ReverseEnter + ReverseLeave pair, four hosts through one call site",
    "ReverseEnter + ReverseLeave pair, one host of several (its own call site)",
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
  // Its own process: see EXTERNAL_CASES. (Node only: the suite is empty in a page.)
  ...(EXTERNAL_CASES.length ? { "interop-external": EXTERNAL_CASES.map((c) => c.name) } : {}),
};

/** Suites a page does not have (their cases need Node): the browser runner skips them. */
export const NODE_ONLY_SUITES = ["interop-external"];

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
    "four hosts through one call site: pair / two empty wasm calls",
    "ReverseEnter + ReverseLeave pair, four hosts through one call site",
    "empty wasm function, 2 calls",
  ],
  [
    "two hosts through one call site / one host of several",
    "ReverseEnter + ReverseLeave pair, two hosts through one call site",
    "ReverseEnter + ReverseLeave pair, one host of several (its own call site)",
  ],
  [
    "four hosts through one call site / one host of several",
    "ReverseEnter + ReverseLeave pair, four hosts through one call site",
    "ReverseEnter + ReverseLeave pair, one host of several (its own call site)",
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
    "fiberhost yield* switch / yield switch",
    "fiberhost switch (yield* f.yield() ping-pong)",
    "fiberhost switch (yield f.yield() ping-pong)",
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

/**
 * The targets, a ratio or a derived metric against a limit per engine (its floor measured in the same
 * process). Issue 12 set the first ones for Node 20; issue 21 (performance round three) tightened
 * them and added Chromium's where it named them. A target that names no Chromium limit holds
 * Chromium to Node's; `null` means none applies there (`why` says so).
 */
export const TARGETS = [
  {
    name: "ReverseEnter + ReverseLeave pair / two empty wasm calls",
    ratio: "ReverseEnter + ReverseLeave pair / two empty wasm calls",
    op: "<=",
    limit: { node: 1.0, chromium: null },
    why: "Chromium inlines an empty wasm call into its JS caller (two calls: ~0.4 ns): the plain-TS reference is its floor",
  },
  {
    name: "transition pair / plain-TS reference pair (ReverseEnter + ReverseLeave)",
    ratio: "ReverseEnter + ReverseLeave pair / plain-TS reference pair",
    op: "<=",
    limit: { node: 1.0 },
  },
  {
    name: "transition pair / plain-TS reference pair (LeaveRuntime + EnterRuntime)",
    ratio: "LeaveRuntime + EnterRuntime pair / plain-TS reference pair",
    op: "<=",
    limit: { node: 1.0 },
  },
  // A process with two hosts runs every host's transitions on the shared path (src/core/shared-
  // transitions.ts), so "one host" is measured in a process of its own: each pair is taken over the
  // two empty wasm calls of its own process, and the target compares those two ratios.
  {
    name: "transition pair: two hosts through one call site / one host",
    ratios: [
      "two hosts through one call site: pair / two empty wasm calls",
      "ReverseEnter + ReverseLeave pair / two empty wasm calls",
    ],
    op: "<=",
    limit: { node: 1.5 },
  },
  {
    name: "transition pair: four hosts through one call site / one host",
    ratios: [
      "four hosts through one call site: pair / two empty wasm calls",
      "ReverseEnter + ReverseLeave pair / two empty wasm calls",
    ],
    op: "<=",
    limit: { node: 1.5 },
  },
  {
    name: "yield f.yield() switch / raw generator round trip",
    ratio: "fiberhost switch / raw generator round trip",
    op: "<=",
    limit: { node: 2.0, chromium: 2.5 },
  },
  {
    name: "async/await switch / fiberhost switch",
    ratio: "async/await switch / fiberhost switch",
    op: ">=",
    limit: { node: 1.5, chromium: 1.2 },
  },
  {
    name: "yield* f.yield() switch / yield f.yield() switch",
    ratio: "fiberhost yield* switch / yield switch",
    op: "<=",
    limit: { node: 1.15 },
  },
  {
    name: "Effect yieldNow switch / fiberhost switch",
    ratio: "Effect switch (default scheduler) / fiberhost switch",
    op: ">=",
    limit: { node: 20 },
  },
  // In a page, the RSS of the browser's processes (read from /proc by the runner) stands in: a
  // page cannot read its process's RSS, and the browser's own baseline is not the page's.
  {
    name: "1,000,000 fibers parked in ev.wait(): process RSS (MB)",
    metric: ["parked: RSS, whole process (MB)", "parked: browser processes' RSS delta (MB)"],
    op: "<=",
    limit: { node: 400 },
  },
  {
    name: "1,000,000 fibers parked in f.wait(ev, INFINITE), f kept: process RSS (MB)",
    metric: [
      "parked (f.wait, f kept): RSS, whole process (MB)",
      "parked (f.wait, f kept): browser processes' RSS delta (MB)",
    ],
    op: "<=",
    limit: { node: 400 },
  },
  {
    name: "core bytes per parked fiber",
    metric: "parked: core memory per fiber (bytes)",
    op: "<=",
    limit: { node: 64 },
  },
  {
    name: "spawn + run + exit (fibers/s)",
    metric: "spawn + run + exit: fibers per second",
    op: ">=",
    limit: { node: 5_000_000 },
  },
  {
    name: "spawn + run + exit, children of a fiber's f.spawn (fibers/s)",
    metric: "spawn + run + exit, f.spawn: fibers per second",
    op: ">=",
    limit: { node: 5_000_000 },
  },
  {
    name: "asyncify suspension round trip / f.await, 100 fibers",
    ratio: "asyncify round trip / f.await, 100 fibers",
    op: "<=",
    limit: { node: 1.5 },
  },
];

/** A target's limit on `engine`: Node's unless the target names one for it; null when none applies. */
export function limitOn(target, engine) {
  return engine in target.limit ? target.limit[engine] : target.limit.node;
}
