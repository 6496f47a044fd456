// The benchmark cases, shared by the Node runner (bench/node-worker.js) and the browser page
// (bench/browser/page.js). Each case measures the built package (dist/), with its floor and its
// peers in the same suite, so that every ratio is taken between cases measured in one process.
//
// A case's run(n) does n iterations and answers a number (the sink): the harness adds the sinks
// up, checks them against what the iterations must have produced (verify), and reports them, so
// no engine can drop the work. One iteration is `opsPerIter` operations (a ping-pong iteration
// is two switches); results are in ns per operation.
//
// The cases live by group in bench/cases/ (and the floor in bench/floor.js); this is the list the
// suites (bench/suites.js) name them from, in the order the tables show them.

import { TRANSITION_CASES, TWO_HOST_CASES } from "./cases/transitions.js";
import { FLOOR_CASES } from "./floor.js";
import { SWITCH_CASES } from "./cases/switches.js";
import { SCALE_CASES } from "./cases/scale.js";
import { BULK_CASES } from "./cases/bulk.js";
import { HOST_CASES } from "./cases/hosts.js";
import { EXTERNAL_CASES, INTEROP_CASES } from "./interop-cases.js";

/**
 * name, group (for the tables), what one operation is (`op`), opsPerIter, and setup(env), which
 * answers { run(n), verify(iterations, sink) } (or `measure(env)` for one-shot cases).
 */
export const CASES = [
  ...TRANSITION_CASES,
  ...TWO_HOST_CASES,
  ...FLOOR_CASES,
  ...SWITCH_CASES,
  ...SCALE_CASES,
  ...BULK_CASES,
  ...HOST_CASES,
  ...INTEROP_CASES,
  ...EXTERNAL_CASES,
];
