// The demo page on one host (main.ts starts it for ?threads=1, the default): the demo scenario on
// a real clock, with live lanes, counters and controls.
// Query parameters: ?fibers=N (the population kept alive, default 2,000), ?seed=N.

import { HOST_E_TIMEOUT, HResultError, hresultName, S_FALSE, type Out, type Task } from "../src/index.js";
import { Scenario } from "../src/demo/scenario.js";
import { Lanes } from "./lanes.js";
import { list } from "./counters-list.js";
import { chart, type BenchResult } from "./bench.js";

const params = new URLSearchParams(location.search);
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const fmt = (n: number): string => n.toLocaleString("en-US");

/** Problems with the query parameters: shown on the page, not ignored. */
const notices: string[] = [];
/** A whole-number parameter from 1 to `max`; a value that is not one is reported and the default used. */
const intParam = (name: string, fallback: number, max: number): number => {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const n = raw.trim() === "" ? Number.NaN : Number(raw);
  if (Number.isInteger(n) && n > 0 && n <= max) return n;
  const shown = raw.length > 20 ? `${raw.slice(0, 20)}…` : raw;
  notices.push(`?${name}=${shown} is not a whole number from 1 to ${fmt(max)}: using the default, ${fmt(fallback)}.`);
  return fallback;
};
const population = intParam("fibers", 2000, 100_000);
const seed = intParam("seed", 1, 0xffffffff);
if (notices.length > 0) {
  const notice = $("notice");
  // (After main.ts's own notice, when it wrote one.)
  notice.textContent = [...(notice.hidden ? [] : [notice.textContent]), ...notices].join(" ");
  notice.hidden = false;
}

/** Trace events the page keeps (the last ones): "Save trace" writes them for Perfetto. */
const TRACE_CAPACITY = 1 << 18;

const lastCall = $("last-call");
const lastWhy = $("last-why");

/** Shows a call and its answer; `why`: what the answer means here, when it is not plain. */
function show(call: string, answer: number | string, bad = false, why?: string): void {
  const text = typeof answer === "number" ? hresultName(answer) : answer;
  lastCall.textContent = `${call} → ${text}`;
  lastWhy.textContent = why ?? "";
  lastWhy.hidden = why === undefined;
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

/**
 * The fiber for the alert and abort controls: the one picked by a click on its lane's label (even
 * once it has ended: then the page says so, and acts on no other), or else the first lane's.
 */
function pickFiber(action: string): Task | null {
  const chosen = lanes.selection;
  if (chosen !== null) {
    if (!chosen.done) return chosen;
    lanes.unselect();
    show(
      `${chosen.name}.${action}()`,
      `not called: ${chosen.name} has ended; click a name to pick another fiber`,
      true,
    );
    return null;
  }
  const t = lanes.firstLive() ?? scenario.live[0] ?? null;
  if (t === null) show(`${action}()`, `no live fiber to ${action}`, true);
  return t;
}

$("spawn").onclick = () => {
  const err = spawn(1000);
  if (err === undefined) show("host.spawn() × 1,000", `${fmt(scenario.spawned - scenario.ended)} fibers alive`);
  else
    show(`host.spawn() (fiber ${fmt(scenario.spawned + 1)})`, err instanceof HResultError ? err.hr : String(err), true);
  update();
};
$("suspend").onclick = () => {
  const byHand = scenario.userHold;
  const hr = scenario.suspend();
  // S_FALSE: the runtime was suspended already: by this button, or by the collector's
  // stop-the-world of that moment (it then stays suspended until Resume: the collector leaves a
  // runtime suspended by hand alone).
  const why = byHand
    ? "S_FALSE: the runtime is suspended already (by this button); Resume first"
    : "S_FALSE: the runtime was suspended already: the collector held it for its stop-the-world; it now stays suspended until Resume";
  show("host.suspendRuntime()", hr, false, hr === S_FALSE ? why : undefined);
  update();
};
$("resume").onclick = () => {
  show("host.resumeRuntime()", scenario.resume());
  update();
};
$("alert").onclick = () => {
  const t = pickFiber("alert");
  if (t) show(`${t.name}.alert()`, t.alert());
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
  const t = pickFiber("abort");
  if (!t) return;
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
  const current = tm.getCurrentTask(task);
  const hook = tm.callNeedsHostHook(0x2000, needsHook);
  list($("probe"), [
    ["getCurrentTask(out)", hresultName(current), "probe-current"],
    ["reverseEnterRuntime()", hresultName(enter), "probe-enter"],
    ["reverseLeaveRuntime()", leave === undefined ? "(not called)" : hresultName(leave)],
    ["callNeedsHostHook(0x2000, out)", hresultName(hook), "probe-hook"],
  ]);
  // HOST_E_TIMEOUT is the runtime being suspended, not a fault: the root task may not wait to enter.
  const why = $("probe-why");
  const timedOut = [enter, current, hook].includes(HOST_E_TIMEOUT);
  why.hidden = !timedOut;
  why.textContent = timedOut
    ? `HOST_E_TIMEOUT: the runtime is suspended (${scenario.userHold ? "by hand: Resume ends it" : "the collector holds it for its stop-the-world, a few ms"}), and the root task may not wait to enter it.`
    : "";
}
setInterval(probe, 1000);
probe();
document.body.dataset.ready = "true";
// For the end-to-end test and the curious (the console): the scenario and the lanes.
// crossOriginIsolated: whether the page was served with COOP/COEP (web/vite.config.ts), as workers sharing memory need.
Object.assign(globalThis, {
  fiberhostDemo: { scenario, lanes, crossOriginIsolated: globalThis.crossOriginIsolated === true },
});

/**
 * What main.ts reads of this module: the package says it has no side effects ("sideEffects": false),
 * so a Vite build would drop a module imported only for them.
 */
export const demo = { scenario, lanes };
