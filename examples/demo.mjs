// npm start: a small managed "application" on fiberhost. Worker fibers take jobs from a queue,
// call into unmanaged code (LeaveRuntime/EnterRuntime) that calls back into managed code
// (ReverseEnterRuntime/ReverseLeaveRuntime), do real async I/O, and share a lock; a collector
// fiber stops the world now and then; one worker is aborted and unwinds cleanly. At the end the
// counters are checked against each worker's own tally.
import { writeFileSync } from "node:fs";
import { createHost, hresultName, isTaskAbortError, S_OK, THREAD_PRIORITY_HIGHEST } from "../dist/index.js";

const WORKERS = 8;
const JOBS = 2000;
const NATIVE_COMPRESS = 0x1000; // a LeaveRuntime target: "the unmanaged function we call"

const host = await createHost({ enterTimeoutMs: 1000 });
host.trace.start(1 << 14);

const jobs = host.createSemaphore(0, JOBS);
const statsLock = host.createCrst();
const done = host.createManualEvent(false);
const stats = { processed: 0, bytes: 0, collections: 0 };
const tally = new Map(); // worker name -> transitions it made itself

function* worker(f, id) {
  const mine = { leave: 0, enter: 0, reverseEnter: 0, reverseLeave: 0 };
  tally.set(f.task.name, mine);
  // Born in host (unmanaged) code: the first move into managed code is a ReverseEnterRuntime.
  yield* f.managed(function* () {
    mine.reverseEnter++;
    for (;;) {
      const hr = yield* jobs.wait(50);
      if (hr !== S_OK) {
        if ((yield* done.wait(0)) === S_OK) break; // no more work
        continue;
      }
      // Managed code calls an unmanaged function, which calls back into managed code.
      const size = yield* f.unmanaged(NATIVE_COMPRESS, function* () {
        mine.leave++;
        const out = yield* f.managed(() => 512 + id); // a managed callback
        mine.reverseEnter++;
        mine.reverseLeave++;
        yield* f.yield();
        return out;
      });
      mine.enter++;
      // Real async work: the fiber leaves the runtime while it waits.
      yield* f.await(new Promise((resolve) => setTimeout(resolve, 0)));
      mine.leave++;
      mine.enter++;
      yield* statsLock.enter();
      stats.processed++;
      stats.bytes += size;
      statsLock.leave();
    }
  });
  mine.reverseLeave++;
  return mine;
}

const workers = [];
for (let i = 0; i < WORKERS; i++) workers.push(host.spawn(worker, { name: `worker-${i}`, param: i }));

// The collector: suspends the runtime for a while; unmanaged fibers keep running meanwhile.
host.spawn(
  function* (f) {
    while ((yield* done.wait(20)) !== S_OK) {
      host.suspendRuntime();
      stats.collections++;
      yield* f.sleep(2);
      host.resumeRuntime();
    }
  },
  { name: "collector", priority: THREAD_PRIORITY_HIGHEST },
);

// The producer, and an abort of one worker part-way through.
host.spawn(
  function* (f) {
    for (let i = 0; i < JOBS; i++) {
      jobs.release(1);
      if (i % 64 === 0) yield* f.yield();
      if (i === JOBS / 2) workers[WORKERS - 1].abort();
    }
    while (jobs.currentCount > 0) yield* f.sleep(5);
    done.set();
  },
  { name: "producer" },
);

const t0 = performance.now();
await host.run();
const ms = performance.now() - t0;

const results = await Promise.allSettled(workers.map((w) => w.result));
let tallied = true;
for (const [i, r] of results.entries()) {
  const w = workers[i];
  const mine = tally.get(w.name);
  const c = w.counters();
  // A finished worker's counters in the core must equal its own count of the transitions it made.
  const matches =
    c.leaveRuntime === mine.leave && c.enterRuntime === mine.enter &&
    c.reverseEnterRuntime === mine.reverseEnter && c.reverseLeaveRuntime === mine.reverseLeave;
  if (r.status === "fulfilled") tallied &&= matches;
  const how = r.status === "fulfilled" ? `finished, counters ${matches ? "match" : "DO NOT match"} its tally` : isTaskAbortError(r.reason) ? "aborted, unwound" : `failed: ${r.reason}`;
  console.log(`${w.name.padEnd(9)} ${how}`);
}

const totals = host.counters();
console.log(`\n${stats.processed} of ${JOBS} jobs in ${ms.toFixed(0)} ms (the aborted worker dropped the job it held), ${stats.collections} collections`);
console.log("transition counters (host totals):", totals);
const balanced =
  totals.leaveRuntime === totals.enterRuntime && totals.reverseEnterRuntime === totals.reverseLeaveRuntime + totals.unmatchedReverseEnter;
console.log(`balanced: ${balanced ? "yes" : "NO"}; per-worker tallies: ${tallied ? "all match" : "MISMATCH"}`);
console.log("live tasks:", host.dump().map((d) => `${d.name} (${d.state}, ${d.mode}, depth ${d.depth})`).join(", "));
console.log("root task ReverseEnterRuntime:", hresultName(host.taskManager.reverseEnterRuntime()), "→ mode", host.rootTask.mode);

writeFileSync("fiberhost-trace.json", JSON.stringify(host.trace.toChromeTrace()));
console.log("trace written to fiberhost-trace.json (open it in https://ui.perfetto.dev)");
if (!balanced || !tallied || stats.processed < JOBS - 1) process.exitCode = 1;
