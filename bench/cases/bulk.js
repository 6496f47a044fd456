// Bulk work: the core's pass over its task table versus the same count in JS over Task objects.

import { createHost } from "../../dist/index.js";
import { fail } from "./support.js";

export const BULK_CASES = [
  bulkCase("countManaged() in the core, 100,000 fibers", (h) => h.host.countManaged()),
  bulkCase(
    "tasks.filter(mode === 'managed') in JS, 100,000 fibers",
    (h) => h.tasks.filter((t) => t.mode === "managed").length,
  ),
  bulkCase("for loop over tasks (t.mode) in JS, 100,000 fibers", (h) => {
    const tasks = h.tasks;
    let c = 0;
    for (let i = 0; i < tasks.length; i++) if (tasks[i].mode === "managed") c++;
    return c;
  }),
];

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
          if (sink !== iterations * h.managed)
            fail(`${name}: counted ${sink / iterations} per pass, expected ${h.managed}`);
        },
      };
    },
  };
}
