// A small worker scenario, shared by examples/demo.mjs (on dist/) and the soak in
// test/stress.node.test.ts (on the sources): pass it the fiberhost module to run it on.
// (`npm start` runs the larger demo scenario of `fiberhost demo`: src/cli/scenario/.)
//
// Worker fibers take jobs from a semaphore, call into unmanaged code (LeaveRuntime/EnterRuntime)
// that calls back into managed code (ReverseEnterRuntime/ReverseLeaveRuntime), do real async I/O,
// and share a lock; a collector fiber stops the world now and then; one worker is aborted part-way
// and unwinds. Each worker keeps its own tally of the transitions it makes, to check the core's
// counters against at the end.

const NATIVE_COMPRESS = 0x1000; // a LeaveRuntime target: "the unmanaged function we call"

export async function runScenario(fh, { workers: WORKERS = 8, jobs: JOBS = 2000, host: hostOptions = {} } = {}) {
  const { createHost, S_OK, THREAD_PRIORITY_HIGHEST, isTaskAbortError } = fh;
  const host = await createHost({ enterTimeoutMs: 1000, ...hostOptions });
  host.trace.start(1 << 14);

  const jobs = host.createSemaphore(0, JOBS);
  const statsLock = host.createCrst();
  const done = host.createManualEvent(false);
  const stats = { processed: 0, bytes: 0, collections: 0 };
  const tally = new Map(); // worker name -> the transitions it made itself

  function* worker(f, id) {
    const mine = { leave: 0, enter: 0, reverseEnter: 0, reverseLeave: 0 };
    tally.set(f.task.name, mine);
    // Born in host (unmanaged) code: the first move into managed code is a ReverseEnterRuntime.
    yield* f.managed(function* () {
      mine.reverseEnter++;
      for (;;) {
        if ((yield* jobs.wait(50)) !== S_OK) {
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
        // Real async work: a managed fiber leaves the runtime while it waits.
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

  const fibers = [];
  for (let i = 0; i < WORKERS; i++) fibers.push(host.spawn(worker, { name: `worker-${i}`, param: i }));

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
        if (i === JOBS / 2) fibers[WORKERS - 1].abort();
      }
      while (jobs.currentCount > 0) yield* f.sleep(5);
      done.set();
    },
    { name: "producer" },
  );

  const t0 = performance.now();
  await host.run();
  const ms = performance.now() - t0;

  const results = await Promise.allSettled(fibers.map((w) => w.result));
  const workers = results.map((r, i) => {
    const w = fibers[i];
    const mine = tally.get(w.name);
    const c = w.counters();
    // A finished worker's counters in the core must equal its own count of what it did.
    const matches =
      c.leaveRuntime === mine.leave &&
      c.enterRuntime === mine.enter &&
      c.reverseEnterRuntime === mine.reverseEnter &&
      c.reverseLeaveRuntime === mine.reverseLeave;
    const outcome = r.status === "fulfilled" ? "finished" : isTaskAbortError(r.reason) ? "aborted" : "failed";
    return { name: w.name, outcome, matches, error: r.status === "rejected" ? r.reason : undefined };
  });
  const totals = host.counters();
  const balanced =
    totals.leaveRuntime === totals.enterRuntime &&
    totals.reverseEnterRuntime === totals.reverseLeaveRuntime + totals.unmatchedReverseEnter;
  return {
    host,
    ms,
    stats,
    jobs: JOBS,
    workers,
    totals,
    balanced,
    tallied: workers.every((w) => w.outcome !== "finished" || w.matches),
  };
}
