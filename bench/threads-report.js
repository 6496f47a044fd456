// bench/threads.js's results: the raw figures of each process (or page load) of one engine made
// into bench/results/threads-<engine>.json (aggregate), and the README's "Many cores: costs" table
// rendered from both engines' files (renderThreads, called by scripts/docs.mjs between
// <!-- threads:start --> and <!-- threads:end -->).

import { existsSync, readFileSync } from "node:fs";

export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * @typedef {{ name: string, unit: string, target: any[] | null | ((engine: string) => any[] | null), case?: string,
 *   get?: (r: any) => number, from?: (byCase: any) => number, runs?: (byCase: any) => number[],
 *   total?: boolean }} Figure
 */
/**
 * The figures, in the table's order: how each is taken from one process's raw result, its unit and
 * its target (null: reported, not held to one). A figure's value is the median of its per-process
 * values (a count's, their sum).
 */
/** @type {Figure[]} */
export const FIGURES = [
  {
    name: "transition pair: shared core ÷ plain core (each ÷ its empty wasm call floor)",
    unit: "×",
    // Held in Node only: in a page V8 inlines the empty wasm calls in some loads (0.3 ns for two)
    // and not in others (12 ns), so pair ÷ floor says which loads drew which, not what a shared
    // core costs; Chromium is held to the ns ratio below (as issue 21's pair ÷ floor has no
    // Chromium limit).
    target: (engine) => (engine === "node" ? ["<=", 1.05] : null),
    // Two cases, each in processes of its own: the ratio of the medians of (pair ÷ floor).
    from: (byCase) => {
      const rel = (c) => median((byCase[c] ?? []).map((r) => r.pairNs / r.floorNs));
      return rel("pair-shared") / rel("pair-plain");
    },
    runs: (byCase) => {
      const s = byCase["pair-shared"] ?? [];
      const p = byCase["pair-plain"] ?? [];
      return s.map((r, i) => (p[i] ? r.pairNs / r.floorNs / (p[i].pairNs / p[i].floorNs) : NaN));
    },
  },
  {
    name: "transition pair: shared core ÷ plain core, ns (no floor; each kind's processes apart)",
    unit: "×",
    target: (engine) => (engine === "chromium" ? ["<=", 1.05] : null),
    from: (byCase) =>
      median((byCase["pair-shared"] ?? []).map((r) => r.pairNs)) /
      median((byCase["pair-plain"] ?? []).map((r) => r.pairNs)),
    runs: (byCase) => {
      const p = byCase["pair-plain"] ?? [];
      return (byCase["pair-shared"] ?? []).map((r, i) => (p[i] ? r.pairNs / p[i].pairNs : NaN));
    },
  },
  { name: "transition pair, shared core", unit: "ns", target: null, case: "pair-shared", get: (r) => r.pairNs },
  { name: "transition pair, plain core", unit: "ns", target: null, case: "pair-plain", get: (r) => r.pairNs },
  { name: "two empty wasm calls (the floor)", unit: "ns", target: null, case: "pair-plain", get: (r) => r.floorNs },
  ...[1, 2, 4].flatMap((n) => {
    const held = n === 1;
    const c = `stw-${n}`;
    const w = `${n} worker${n > 1 ? "s" : ""}`;
    return [
      {
        name: `stop-the-world, ${w}: suspend p50`,
        unit: "µs",
        target: held ? ["<=", 200] : null,
        case: c,
        get: (r) => r.suspendUs.p50,
      },
      {
        name: `stop-the-world, ${w}: suspend p99`,
        unit: "µs",
        target: held ? ["<=", 5000] : null,
        case: c,
        get: (r) => r.suspendUs.p99,
      },
      {
        name: `stop-the-world, ${w}: resume p50 (every held fiber ran again)`,
        unit: "µs",
        target: null,
        case: c,
        get: (r) => r.resumeAllUs.p50,
      },
      {
        name: `stop-the-world, ${w}: resume p99 (every held fiber ran again)`,
        unit: "µs",
        target: held ? ["<=", 10_000] : null,
        case: c,
        get: (r) => r.resumeAllUs.p99,
      },
      {
        name: `stop-the-world, ${w}: resume p50 (a first fiber on every worker)`,
        unit: "µs",
        target: null,
        case: c,
        get: (r) => r.resumeFirstUs.p50,
      },
      // A resume (or suspension) that never reached a worker: counted, the runtime nudged on, not timed.
      {
        name: `stop-the-world, ${w}: rounds lost (a resume or suspension never reached a worker), in all processes`,
        unit: "rounds",
        total: true,
        target: ["<=", 0],
        case: c,
        get: (r) => r.lostResumes + r.lostSuspends,
      },
    ];
  }),
  {
    name: "cross-worker wake, idle worker: p50 (round trip halved)",
    unit: "µs",
    target: ["<=", 20],
    case: "wake-idle",
    get: (r) => r.halfTripUs.p50,
  },
  {
    name: "cross-worker wake, idle worker: p99 (round trip halved)",
    unit: "µs",
    target: ["<=", 100],
    case: "wake-idle",
    get: (r) => r.halfTripUs.p99,
  },
  {
    name: "cross-worker wake, idle worker: p50 (one way, stamped)",
    unit: "µs",
    target: null,
    case: "wake-idle",
    get: (r) => r.oneWayUs.p50,
  },
  {
    name: "cross-worker wake, busy worker: p50 (one way, stamped)",
    unit: "µs",
    target: ["<=", 100],
    case: "wake-busy",
    get: (r) => r.oneWayUs.p50,
  },
  {
    name: "cross-worker wake, busy worker: p99 (one way, stamped)",
    unit: "µs",
    target: null,
    case: "wake-busy",
    get: (r) => r.oneWayUs.p99,
  },
  {
    name: "the floor: a raw Atomics.waitAsync ping-pong with a plain worker, p50 (round trip halved)",
    unit: "µs",
    target: null,
    case: "wake-floor",
    get: (r) => r.halfTripUs.p50,
  },
  ...["idle", "busy"].map((k) => ({
    name: `cross-worker wake, ${k} worker: wakes lost (to the worker or back to the main thread), in all processes`,
    unit: "rounds",
    total: true,
    target: ["<=", 0],
    case: `wake-${k}`,
    get: (r) => r.lostWakes + r.lostBack,
  })),
  {
    name: "CPU-bound fibers: 2 workers ÷ 1 worker, throughput",
    unit: "×",
    target: [">=", 1.5],
    case: "cpu",
    get: (r) => r.fiberSpeedup,
  },
  {
    name: "pure-CPU ceiling: 2 plain workers ÷ 1, throughput",
    unit: "×",
    target: null,
    case: "cpu",
    get: (r) => r.plainSpeedup,
  },
  {
    name: "CPU-bound fibers on 1 worker ÷ the same work in 1 plain worker, time",
    unit: "×",
    target: null,
    case: "cpu",
    get: (r) => r.fibers1OverPlain1,
  },
];

/** A figure's target on `engine` ("node", "chromium"): most have one for both. */
function targetOf(f, engine) {
  return typeof f.target === "function" ? f.target(engine) : f.target;
}

/** One engine's JSON: every figure's median, its per-process values, its target and pass/miss. */
export function aggregate(runs, meta) {
  const byCase = {};
  for (const r of runs) (byCase[r.case] ??= []).push(r);
  const figures = [];
  for (const f of FIGURES) {
    let value;
    let perRun;
    if (f.from) {
      value = f.from(byCase);
      perRun = f.runs(byCase);
    } else {
      perRun = (byCase[f.case] ?? []).map(f.get);
      // A count of failures is summed over the processes: one lost round is one too many.
      value = f.total ? perRun.reduce((a, b) => a + b, 0) : median(perRun);
    }
    if (perRun.length === 0 || !Number.isFinite(value)) continue;
    const target = targetOf(f, meta.engine);
    const pass = target === null ? null : target[0] === "<=" ? value <= target[1] : value >= target[1];
    figures.push({ name: f.name, unit: f.unit, value, target, pass, runs: perRun });
  }
  const strip = ({ samples, ...rest }) => rest;
  return {
    ...meta,
    processesPerCase: median(Object.values(byCase).map((v) => v.length)),
    figures,
    raw: runs.map(strip),
  };
}

export function fmt(value, unit) {
  if (unit === "rounds") return `${Number(value.toPrecision(3))}`;
  if (unit === "×") return `${value.toFixed(2)}×`;
  if (unit === "µs") return value >= 1000 ? `${(value / 1000).toPrecision(3)} ms` : `${value.toPrecision(3)} µs`;
  return `${value.toPrecision(3)} ns`;
}
const fmtTarget = (t, unit) => (t === null ? "—" : `${t[0] === "<=" ? "≤" : "≥"} ${fmt(t[1], unit)}`);
const range = (f) => {
  const xs = f.runs.filter(Number.isFinite);
  return xs.length > 1 ? ` (${fmt(Math.min(...xs), f.unit)}–${fmt(Math.max(...xs), f.unit)})` : "";
};

/** A console/Markdown table of one engine's figures. */
export function toText(r) {
  const lines = [`${r.engineVersion}, ${r.cores} cores, ${r.processesPerCase} processes a case`, ""];
  for (const f of r.figures) {
    const verdict = f.pass === null ? "" : f.pass ? "  pass" : "  MISS";
    lines.push(
      `  ${fmt(f.value, f.unit).padStart(10)}  ${f.name}  [target ${fmtTarget(f.target, f.unit)}]${verdict}${range(f)}`,
    );
  }
  return lines.join("\n");
}

function load(engine) {
  const file = new URL(`./results/threads-${engine}.json`, import.meta.url);
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null;
}

/** The README's block: each figure with its target, per engine (median, the range over processes, pass/miss). */
export function renderThreads() {
  const engines = [
    ["Node", load("node")],
    ["Chromium", load("chromium")],
  ].filter(([, r]) => r !== null);
  if (engines.length === 0) return "(no results yet: node bench/threads.js)\n";
  const lines = [];
  for (const [label, r] of engines)
    lines.push(
      `- ${label}: ${r.engineVersion}, ${r.cores} cores (${r.coresSource}), ${r.cpu}, ${r.date.slice(0, 10)}, ${r.processesPerCase} fresh ${label === "Node" ? "processes" : "page loads"} a case${r.failed?.length ? ` (${r.failed.length} failed and left out: ${[...new Set(r.failed.map((f) => f.case))].join(", ")})` : ""}`,
    );
  lines.push("");
  lines.push(`| figure | target | ${engines.map(([l]) => l).join(" | ")} |`);
  lines.push(`|---|---|${engines.map(() => "---").join("|")}|`);
  for (const f of FIGURES) {
    const cells = engines.map(([, r]) => {
      const x = r.figures.find((g) => g.name === f.name);
      if (!x) return "—";
      const verdict = x.pass === null ? "" : x.pass ? " pass" : " **miss**";
      return `${fmt(x.value, x.unit)}${verdict}<br><sub>${range(x)
        .trim()
        .replace(/^\(|\)$/g, "")}</sub>`;
    });
    const targets = [...new Set(engines.map(([l]) => fmtTarget(targetOf(f, l.toLowerCase()), f.unit)))];
    const target =
      targets.length === 1
        ? targets[0]
        : engines.map(([l]) => `${l}: ${fmtTarget(targetOf(f, l.toLowerCase()), f.unit)}`).join("; ");
    lines.push(`| ${f.name} | ${target} | ${cells.join(" | ")} |`);
  }
  lines.push("");
  lines.push(
    "Medians over the fresh processes (page loads) of each case, the range over them below each; p50 and p99 are taken over each process's rounds (200 of stop-the-world, 300 wakes), then their median over processes; a count of lost rounds is their sum over the processes (the range: per process). How each is measured and what bounds it: [bench/README.md](bench/README.md#the-threads-bench-many-cores).",
  );
  return `${lines.join("\n")}\n`;
}
