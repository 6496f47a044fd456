// The demo page: the demo scenario on a real clock, with live lanes, counters and controls.
// Query parameters: ?fibers=N (the population kept alive, default 2,000), ?seed=N.

import { HResultError, hresultName, type Out, type Task } from "../src/index.js";
import { Scenario } from "../src/cli/scenario/scenario.js";
import { Lanes } from "./lanes.js";
import { chart, type BenchResult } from "./bench.js";

const params = new URLSearchParams(location.search);
const intParam = (name: string, fallback: number, max: number): number => {
  const n = Number(params.get(name));
  return Number.isInteger(n) && n > 0 && n <= max ? n : fallback;
};
const population = intParam("fibers", 2000, 100_000);
const seed = intParam("seed", 1, 0xffffffff);

/** Trace events the page keeps (the last ones): "Save trace" writes them for Perfetto. */
const TRACE_CAPACITY = 1 << 18;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const fmt = (n: number): string => n.toLocaleString("en-US");
const lastCall = $("last-call");

function show(call: string, answer: number | string, bad = false): void {
  const text = typeof answer === "number" ? hresultName(answer) : answer;
  lastCall.textContent = `${call} → ${text}`;
  lastCall.classList.toggle("bad", bad || (typeof answer === "number" && answer >= 0x80000000));
}

// At pace 20 a fiber lives about a second: long enough to be seen in its lane. A request that
// blocks inside the guest waits 50–300 ms for its host_fetch.
const scenario = await Scenario.create({
  clock: "real",
  continuous: true,
  fibers: population,
  durationMs: 2000,
  seed,
  pace: 20,
  guest: { fetchDelayMs: (x) => 50 + (x % 250) },
  traceCapacity: TRACE_CAPACITY,
});
const { host } = scenario;
scenario.start();
host.run().catch((err) => show("host.run()", String(err), true));

// Keeps the population up once the first wave has arrived (fibers end all the time).
let topUp = true;
/** Spawns `n` fibers; answers the error that stopped it, if one did. */
function spawn(n: number): unknown {
  try {
    for (let i = 0; i < n; i++) scenario.spawnOne();
  } catch (err) {
    topUp = false;
    return err;
  }
  return undefined;
}
setInterval(() => {
  if (!topUp || scenario.spawned < scenario.total || host.runtimeState === "disabled") return;
  const missing = population - (scenario.spawned - scenario.ended);
  if (missing > 0) spawn(Math.min(missing, 500));
}, 200);

const lanes = new Lanes($("lanes"), $("lane-labels"), scenario);
setInterval(() => lanes.sample(), 50);

/** A fiber for the alert and abort controls: the selected lane's (click a label), or the first lane's. */
function pickFiber(): Task | null {
  return lanes.pick() ?? scenario.live[0] ?? null;
}

$("spawn").onclick = () => {
  const err = spawn(1000);
  if (err === undefined) show("host.spawn() × 1,000", `${fmt(scenario.spawned - scenario.ended)} fibers alive`);
  else
    show(`host.spawn() (fiber ${fmt(scenario.spawned + 1)})`, err instanceof HResultError ? err.hr : String(err), true);
  update();
};
$("suspend").onclick = () => {
  show("host.suspendRuntime()", scenario.suspend());
  update();
};
$("resume").onclick = () => {
  show("host.resumeRuntime()", scenario.resume());
  update();
};
$("alert").onclick = () => {
  const t = pickFiber();
  if (t) show(`${t.name}.alert()`, t.alert());
  else show("alert()", "no live fiber to alert", true);
};
/**
 * The Abort button's own aborts, told apart from the supervisor's (which abort fibers anyway): each
 * is given a reason of its own, and a fiber that unwinds with the TaskAbortError carrying it (its
 * `cause`) counts as delivered.
 */
const buttonAborts = { sent: 0, delivered: 0, reasons: new Set<object>() };
const tallyEnded = scenario.tally.ended.bind(scenario.tally);
scenario.tally.ended = (outcome) => {
  const cause = outcome === "finished" ? undefined : (outcome.error as { cause?: unknown } | null)?.cause;
  if (typeof cause === "object" && cause !== null && buttonAborts.reasons.delete(cause)) buttonAborts.delivered++;
  tallyEnded(outcome);
};
$("abort").onclick = () => {
  const t = pickFiber();
  if (!t) return show("abort()", "no live fiber to abort", true);
  const reason = { abortedBy: "the page's Abort button", fiber: t.name };
  const hr = t.abort(reason);
  if (hr === 0) {
    scenario.tally.abortsRequested++; // (the totals count every abort sent, the supervisor's and these)
    buttonAborts.sent++;
    buttonAborts.reasons.add(reason);
  }
  show(`${t.name}.abort()`, hr);
  update();
};
$("fail").onclick = () => {
  topUp = false;
  const { trapped, after } = scenario.fail();
  show(
    "host.injectCoreFault(); host.suspendRuntime(); host.resumeRuntime()",
    `${hresultName(trapped)}, then ${hresultName(after)}`,
    true,
  );
  update();
};
$("save-trace").onclick = () => {
  const trace = host.trace.toChromeTrace();
  const url = URL.createObjectURL(new Blob([JSON.stringify(trace)], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = "fiberhost-trace.json";
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  show(
    "host.trace.toChromeTrace()",
    `${fmt(trace.traceEvents.length)} events saved as fiberhost-trace.json (open it in ui.perfetto.dev)`,
  );
};
$("bench").onclick = async () => {
  const button = $<HTMLButtonElement>("bench");
  button.disabled = true;
  $("bench-chart").innerHTML = `<p class="hint">Running…</p>`;
  try {
    $("bench-chart").innerHTML = chart(await benchInWorker());
    $("bench-chart").dataset.done = "true";
  } catch (err) {
    $("bench-chart").textContent = `The benchmark failed: ${String(err)}`;
  } finally {
    button.disabled = false;
  }
};

// The benchmark runs in a worker, so that the demo (on this thread) neither slows it down nor
// stops while it runs.
let worker: Worker | null = null;
function benchInWorker(): Promise<BenchResult[]> {
  worker ??= new Worker(new URL("./bench-worker.ts", import.meta.url), { type: "module" });
  const w = worker;
  return new Promise((resolve, reject) => {
    w.onmessage = (e: MessageEvent<{ results?: BenchResult[]; error?: string }>) =>
      e.data.results ? resolve(e.data.results) : reject(new Error(e.data.error));
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage("run");
  });
}

function list(el: HTMLElement, rows: [string, string, string?][]): void {
  if (el.children.length !== rows.length * 2) {
    el.innerHTML = rows.map(([k, , id]) => `<dt>${k}</dt><dd${id ? ` data-testid="${id}"` : ""}></dd>`).join("");
  }
  rows.forEach(([, v], i) => {
    const dd = el.children[i * 2 + 1] as HTMLElement;
    if (dd.textContent !== v) dd.textContent = v;
  });
}

let lastTotal = 0;
let lastAt = performance.now();
let rate = 0;
function update(): void {
  const s = scenario.summary();
  const t = s.transitions;
  const now = performance.now();
  if (now - lastAt >= 900) {
    rate = ((t.total - lastTotal) * 1000) / (now - lastAt);
    lastTotal = t.total;
    lastAt = now;
  }
  const state = host.runtimeState;
  const badge = $("runtime");
  // (The collector's own suspensions last a few ms: the badge shows the ones made by hand.)
  badge.textContent =
    state === "disabled"
      ? "runtime disabled: HOST_E_CLRNOTAVAILABLE"
      : scenario.userHold
        ? "runtime suspended (by hand)"
        : "runtime running";
  badge.className = `badge ${state === "disabled" ? "disabled" : scenario.userHold ? "suspended" : "running"}`;
  const managed = state === "disabled" ? "—" : fmt(host.countManaged());
  list($("counters"), [
    ["fibers alive", fmt(s.fibers.spawned - scenario.ended), "alive"],
    ["spawned", fmt(s.fibers.spawned), "spawned"],
    [
      "ended: finished / aborted / failed",
      `${fmt(s.fibers.finished)} / ${fmt(s.fibers.aborted)} / ${fmt(s.fibers.failed)}`,
      "ended",
    ],
    ["in managed code now", managed, "managed"],
    ["held by a suspension now", fmt(scenario.countHeld()), "held"],
    ["transitions", fmt(t.total), "transitions"],
    ["transitions per second", fmt(Math.round(rate)), "rate"],
    ["LeaveRuntime · EnterRuntime", `${fmt(t.leaveRuntime)} · ${fmt(t.enterRuntime)}`],
    ["ReverseEnter · ReverseLeave", `${fmt(t.reverseEnterRuntime)} · ${fmt(t.reverseLeaveRuntime)}`],
    ["unmatched reverse enters", fmt(s.unmatchedReverseEnter), "unmatched"],
    ["guest requests · import calls", `${fmt(s.guest.requests)} · ${fmt(s.guest.importCalls)}`],
    ["blocked inside the guest now", fmt(scenario.guest.blocked.size), "blocked"],
    ["suspensions", fmt(s.suspensions.count), "suspensions"],
    [
      "entering waits p50 / p99",
      `${s.suspensions.enterWaitMs.p50.toFixed(1)} / ${s.suspensions.enterWaitMs.p99.toFixed(1)} ms`,
    ],
    ["aborts sent / delivered", `${fmt(s.aborts.requested)} / ${fmt(s.aborts.delivered)}`, "aborts"],
    ["of them, by the Abort button", `${fmt(buttonAborts.sent)} / ${fmt(buttonAborts.delivered)}`, "button-aborts"],
    ["alerts sent", fmt(s.alerts.sent), "alerts"],
  ]);
  list(
    $("waits"),
    Object.entries(s.waits).map(([k, v]) => [k, fmt(v)] as [string, string]),
  );
  const failures = Object.entries(s.fibers.failures);
  if (failures.length)
    list($("waits"), [
      ...Object.entries(s.waits).map(([k, v]) => [k, fmt(v)] as [string, string]),
      ...failures.map(([k, v]) => [`fibers failed: ${k}`, fmt(v)] as [string, string]),
    ]);
}
setInterval(update, 250);
update();

// The probe: a few calls on the root task, to show what the runtime answers now.
function probe(): void {
  const tm = host.taskManager;
  const task: Out<Task> = {};
  const needsHook: Out<boolean> = {};
  const enter = tm.reverseEnterRuntime();
  const leave = enter === 0 ? tm.reverseLeaveRuntime() : undefined;
  list($("probe"), [
    ["getCurrentTask(out)", hresultName(tm.getCurrentTask(task)), "probe-current"],
    ["reverseEnterRuntime()", hresultName(enter), "probe-enter"],
    ["reverseLeaveRuntime()", leave === undefined ? "(not called)" : hresultName(leave)],
    ["callNeedsHostHook(0x2000, out)", hresultName(tm.callNeedsHostHook(0x2000, needsHook)), "probe-hook"],
  ]);
}
setInterval(probe, 1000);
probe();
document.body.dataset.ready = "true";
// For the end-to-end test and the curious (the console): the scenario and the lanes.
Object.assign(globalThis, { fiberhostDemo: { scenario, lanes } });
