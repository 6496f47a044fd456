// The demo page across workers (?threads=N): a pool of N workers on one shared runtime, each running
// its share of the scenario (src/demo/threads-entry.ts) and writing what the page shows of it to a
// shared board (src/demo/board.ts); this thread's host runs the collector that stops the world for
// every worker. The lanes are grouped by worker; the counters are the shared core's totals.

import { hresultName, type PoolHost } from "../src/index.js";
import { BOARD_LANES, BoardRow, makeBoard, Word } from "../src/demo/board.js";
import { startCollector, shareOf } from "../src/demo/threads-demo.js";
import type { ShareParam, ShareSummary } from "../src/demo/threads-entry.js";
import { WorkerLanes } from "./worker-lanes.js";
import { list } from "./counters-list.js";

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const fmt = (n: number): string => n.toLocaleString("en-US");

/** What only a single host's page does: these controls say so rather than act on one worker. */
const ONE_HOST_ONLY = ["alert", "abort", "fail", "save-trace"];

export function startThreadsPage(host: PoolHost): void {
  const params = new URLSearchParams(location.search);
  const intParam = (name: string, fallback: number): number => {
    const n = Number(params.get(name) ?? fallback);
    return Number.isInteger(n) && n > 0 ? n : fallback;
  };
  const population = intParam("fibers", 2000);
  const seed = intParam("seed", 1);
  const workers = host.workers;
  const board = makeBoard(workers.length);
  const rows = workers.map((_, i) => new BoardRow(board, i));
  const collector = startCollector(host);
  // Each share keeps its part of the population alive, at the single host's pace.
  const shares = workers.map((w, index) => {
    const p: ShareParam = {
      index,
      of: workers.length,
      fibers: shareOf(population, index, workers.length),
      durationMs: 2000,
      seed,
      pace: 20,
      continuous: true,
      slowFetch: true,
      board,
    };
    return host.spawnOn<ShareSummary>(w, "share", p).result;
  });
  const failures: string[] = [];
  for (const s of shares) s.catch((err: unknown) => failures.push(String(err)));

  const lastCall = $("last-call");
  const show = (call: string, answer: string, bad = false): void => {
    lastCall.textContent = `${call} → ${answer}`;
    lastCall.classList.toggle("bad", bad);
    $("last-why").hidden = true;
  };
  for (const id of ONE_HOST_ONLY) {
    const button = $<HTMLButtonElement>(id);
    button.disabled = true;
    button.title = "on one host only (Threads: 1): a worker's fibers are on its own thread";
  }
  $("lanes-title").textContent =
    `(${workers.length} workers, ${BOARD_LANES} lanes each: a fiber per lane, as the worker saw it; a notch: the lane's next fiber)`;
  $("spawn").onclick = () => {
    for (const [i, row] of rows.entries()) row.add(Word.SPAWN, shareOf(1000, i, rows.length));
    show("spawn 1,000 fibers across the workers", `${fmt(rows.length)} workers asked`);
  };
  $("suspend").onclick = () => {
    collector.hold = true;
    const at = performance.now();
    void host.suspendRuntimeAsync().then((hr) => {
      show(
        "host.suspendRuntimeAsync()",
        `${hresultName(hr)}: every worker held after ${(performance.now() - at).toFixed(1)} ms`,
      );
      update();
    });
  };
  $("resume").onclick = () => {
    collector.hold = false;
    show("host.resumeRuntime()", hresultName(host.resumeRuntime()));
    update();
  };

  const lanes = new WorkerLanes($("lanes"), $("lane-labels"), rows);
  setInterval(() => lanes.sample(), 50);

  const sum = (word: Word): number => rows.reduce((a, r) => a + r.get(word), 0);
  let lastTotal = 0;
  let lastAt = performance.now();
  let rate = 0;
  function update(): void {
    const c = host.counters();
    const total = c.leaveRuntime + c.enterRuntime + c.reverseEnterRuntime + c.reverseLeaveRuntime;
    const now = performance.now();
    if (now - lastAt >= 900) {
      rate = ((total - lastTotal) * 1000) / (now - lastAt);
      lastTotal = total;
      lastAt = now;
    }
    const held = collector.hold && host.door.isSuspended();
    const badge = $("runtime");
    badge.textContent = held ? "runtime suspended (by hand)" : `runtime running on ${workers.length} workers`;
    badge.className = `badge ${held ? "suspended" : "running"}`;
    list($("counters"), [
      ["workers (threads)", workers.join(", "), "workers"],
      ["fibers alive", fmt(sum(Word.SPAWNED) - sum(Word.ENDED)), "alive"],
      ["spawned", fmt(sum(Word.SPAWNED)), "spawned"],
      [
        "ended: finished / aborted / failed",
        `${fmt(sum(Word.FINISHED))} / ${fmt(sum(Word.ABORTED))} / ${fmt(sum(Word.FAILED))}`,
        "ended",
      ],
      ["in managed code now (every worker)", fmt(host.countManaged()), "managed"],
      ["held by a suspension now", fmt(sum(Word.HELD)), "held"],
      ["transitions (the shared core's)", fmt(total), "transitions"],
      ["transitions per second", fmt(Math.round(rate)), "rate"],
      ["LeaveRuntime · EnterRuntime", `${fmt(c.leaveRuntime)} · ${fmt(c.enterRuntime)}`],
      ["ReverseEnter · ReverseLeave", `${fmt(c.reverseEnterRuntime)} · ${fmt(c.reverseLeaveRuntime)}`],
      ["unmatched reverse enters", fmt(c.unmatchedReverseEnter), "unmatched"],
      ["guest requests", fmt(sum(Word.REQUESTS))],
      ["blocked inside the guest now", fmt(sum(Word.BLOCKED)), "blocked"],
      ["stop-the-world suspensions", fmt(collector.count), "suspensions"],
      ["invariants (every thread)", host.checkInvariants() ? "hold" : "BROKEN", "invariants"],
      ...rows.map(
        (r, i) =>
          [
            `worker ${i + 1} (thread ${r.get(Word.THREAD)}): alive / ended`,
            `${fmt(r.get(Word.SPAWNED) - r.get(Word.ENDED))} / ${fmt(r.get(Word.ENDED))}`,
            `worker-${i + 1}`,
          ] as [string, string, string],
      ),
      ...failures.map((f, i) => [`a worker's share failed (${i + 1})`, f] as [string, string]),
    ]);
  }
  setInterval(update, 250);
  update();
  $("probe").innerHTML = "";
  document.body.dataset.ready = "true";
  // For the end-to-end test and the curious (the console).
  Object.assign(globalThis, { fiberhostDemo: { threads: { host, rows, collector, lanes } } });
}
