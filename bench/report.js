// Turns the raw results of every process (or page load) of one engine into bench/results/<engine>
// .json, .md and .svg. Medians are medians over processes of each process's median; p95 is taken
// over every sample of every process; a ratio is computed in each process, then its median taken.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { CASES } from "./cases.js";
import { NODE_ONLY_SUITES, SUITES, TARGETS, limitOn } from "./suites.js";
import { PLANS, fmtNs } from "./harness.js";

export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The p-quantile (0 … 1) by linear interpolation between closest ranks. */
export function quantile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return s[lo] + (s[hi] - s[lo]) * (at - lo);
}

/**
 * runs: the raw results of runSuite, one per process, each with { suite, cases, metrics, ratios,
 * notes, interference? }. meta: { engine, engineVersion, cpu, date, quick, extra }.
 */
/**
 * Each target of bench/suites.js against one engine's results: its value (a ratio, or a metric and
 * its stand-in), its limit there, pass or miss (null: not measured, or no limit on this engine).
 */
export function evaluateTargets(ratios, metrics, engine) {
  return TARGETS.map((t) => {
    const metric = t.metric === undefined ? undefined : [t.metric].flat().find((m) => m in metrics);
    // (t.ratios: two ratios of different processes, each over its own floor, divided.)
    const value =
      t.ratio !== undefined
        ? ratios[t.ratio]
        : t.ratios !== undefined
          ? ratios[t.ratios[0]] / ratios[t.ratios[1]]
          : metrics[metric];
    const measured = value !== undefined && Number.isFinite(value);
    const limit = limitOn(t, engine);
    const pass = measured && limit !== null ? (t.op === "<=" ? value <= limit : value >= limit) : null;
    const from = t.ratio ?? t.ratios?.join(" ÷ ") ?? metric ?? [t.metric].flat()[0];
    const standIn = t.metric !== undefined && metric !== undefined && metric !== [t.metric].flat()[0];
    const why = limit === null ? t.why : undefined;
    return { name: t.name, from, standIn, op: t.op, limit, why, value: measured ? value : null, pass };
  });
}

export function aggregate(runs, meta) {
  const cases = [];
  for (const c of CASES) {
    const mine = runs.filter((r) => r.cases[c.name]);
    if (mine.length === 0) continue;
    const perRun = mine.map((r) => r.cases[c.name].medianNs);
    const pooled = mine.flatMap((r) => r.cases[c.name].samplesNs);
    cases.push({
      name: c.name,
      group: c.group,
      op: c.op,
      medianNs: median(perRun),
      p95Ns: quantile(pooled, 0.95),
      runs: mine.length,
      runMediansNs: perRun,
      samples: pooled.length,
      sinks: mine.map((r) => r.cases[c.name].sink),
    });
  }
  const ratioNames = [...new Set(runs.flatMap((r) => Object.keys(r.ratios)))];
  const ratios = {};
  const ratioRuns = {};
  for (const name of ratioNames) {
    const values = runs.filter((r) => name in r.ratios).map((r) => r.ratios[name]);
    ratios[name] = median(values);
    ratioRuns[name] = values;
  }
  const metricNames = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))];
  const metrics = {};
  const metricRuns = {};
  for (const name of metricNames) {
    const values = runs.filter((r) => name in r.metrics).map((r) => r.metrics[name]);
    metrics[name] = median(values);
    metricRuns[name] = values;
  }
  const targets = evaluateTargets(ratios, metrics, meta.engine);
  const notes = [...new Set(runs.flatMap((r) => r.notes ?? []))];
  return {
    engine: meta.engine,
    engineVersion: meta.engineVersion,
    cpu: meta.cpu,
    date: meta.date,
    quick: meta.quick,
    method: {
      processes: meta.quick ? PLANS.quick.processes : PLANS.full.processes,
      plan: meta.quick ? PLANS.quick : PLANS.full,
      medianNs: "median over processes of each process's median sample",
      p95Ns: "95th percentile of all samples of all processes",
      ratios: "each ratio computed from the medians of one process, then the median over processes",
    },
    cases,
    ratios,
    ratioRuns,
    metrics,
    metricRuns,
    targets,
    notes,
    interference: runs.map((r) => ({ suite: r.suite, ...(r.interference ?? {}) })),
    ...meta.extra,
  };
}

function fmtRatio(x) {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function fmtValue(x) {
  if (Math.abs(x) >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (Math.abs(x) >= 1e4) return `${(x / 1e3).toFixed(0)} k`;
  return x >= 100 ? x.toFixed(0) : x.toFixed(2);
}

export function toMarkdown(r) {
  const L = [];
  L.push(`# fiberhost benchmarks: ${r.engine}${r.quick ? " (quick run: smoke check only)" : ""}`);
  L.push("");
  L.push(`- engine: ${r.engineVersion}`);
  L.push(`- CPU: ${r.cpu}`);
  L.push(`- date: ${r.date}`);
  if (r.source) {
    const dirty = r.source.uncommittedSourceChanges.length;
    L.push(
      `- built from: commit ${r.source.commit.slice(0, 10)}${dirty ? ` plus ${dirty} uncommitted change(s) in src/ or assembly/` : ""} (\`npm run build\`, then dist/ measured)`,
    );
  }
  L.push(
    `- method: ${r.method.processes} fresh ${r.engine === "node" ? "processes" : "page loads (a new browser context each)"} per suite, run one at a time; ` +
      `in each, a case is calibrated to ~${r.method.plan.sampleMs} ms samples, warmed up for ${r.method.plan.warmupMs} ms, then sampled ${r.method.plan.samples} times ` +
      `(the 1,000,000-fiber cases: one warm-up, then ${r.method.plan.fixedSamples} sample(s) per process; the parked fibers: one per process). ` +
      `Median: ${r.method.medianNs}; p95: ${r.method.p95Ns}; ratios: ${r.method.ratios}. Every case's results are sunk and checked.`,
  );
  L.push("");
  L.push("## Targets");
  L.push("");
  if (r.engine !== "node")
    L.push("Where a target names no limit for this engine, it is held to Node 20's (bench/suites.js).\n");
  L.push("| target | limit | measured | result |");
  L.push("|---|---|---|---|");
  for (const t of r.targets) {
    const v = t.value === null ? "not measured" : fmtRatioOrValue(t.value);
    const res = t.pass === null ? "—" : t.pass ? "pass" : "**miss**";
    const from = t.standIn ? ` (${t.from})` : "";
    const limit =
      t.limit === null
        ? `none here${t.why ? `: ${t.why}` : ""}`
        : `${t.op === "<=" ? "≤" : "≥"} ${t.limit.toLocaleString("en-US")}`;
    L.push(`| ${t.name} | ${limit} | ${v}${from} | ${res} |`);
  }
  L.push("");
  L.push("## Cases");
  L.push("");
  L.push("| group | case | median | p95 | per | runs |");
  L.push("|---|---|---|---|---|---|");
  for (const c of r.cases) {
    L.push(`| ${c.group} | ${c.name} | ${fmtNs(c.medianNs)} | ${fmtNs(c.p95Ns)} | ${c.op} | ${c.runs} |`);
  }
  L.push("");
  L.push("## Ratios (same process)");
  L.push("");
  L.push("| ratio | median | min … max over processes |");
  L.push("|---|---|---|");
  for (const [name, v] of Object.entries(r.ratios)) {
    const xs = r.ratioRuns[name];
    L.push(`| ${name} | ${fmtRatio(v)} | ${fmtRatio(Math.min(...xs))} … ${fmtRatio(Math.max(...xs))} |`);
  }
  L.push("");
  L.push("## Other measurements");
  L.push("");
  L.push("| measurement | median | min … max over processes |");
  L.push("|---|---|---|");
  for (const [name, v] of Object.entries(r.metrics)) {
    const xs = r.metricRuns[name];
    L.push(`| ${name} | ${fmtValue(v)} | ${fmtValue(Math.min(...xs))} … ${fmtValue(Math.max(...xs))} |`);
  }
  if (r.notes.length) {
    L.push("");
    L.push("## Notes");
    L.push("");
    for (const n of r.notes) L.push(`- ${n}`);
  }
  const busy = r.interference.filter((x) => x.otherCores !== undefined);
  if (busy.length) {
    const worst = Math.max(...busy.map((x) => x.otherCores));
    const again = busy.filter((x) => x.attempts > 1).length;
    const unit = r.engine === "node" ? "process" : "page load";
    const units = `${unit}${again === 1 ? "" : unit.endsWith("s") ? "es" : "s"}`;
    L.push("");
    L.push(
      `Interference check: each ${unit} waited for the machine to be quiet, and was run again (up to twice) when something else used ` +
        `more than 0.3 cores meanwhile (the machine's busy time in /proc/stat minus that of the runner, its benchmark processes and the browser). ` +
        `${again} ${units} ${again === 1 ? "was" : "were"} run again; in those kept, the most CPU used by anything else during one was ${worst.toFixed(2)} cores on average.`,
    );
  }
  L.push("");
  L.push(`Chart: [${r.engine}.svg](${r.engine}.svg) (medians, log scale).`);
  L.push("");
  return L.join("\n");
}

function fmtRatioOrValue(v) {
  return v >= 1000 ? fmtValue(v) : fmtRatio(v);
}

const GROUP_COLOURS = {
  transitions: "#3b6fb6",
  floor: "#8a8a8a",
  switches: "#d07a1f",
  scale: "#3d9a5b",
  bulk: "#8e4fb0",
};

function esc(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** 10^e ns as a tick label: 1 ns, 10 ns, 100 ns, 1 µs, … */
function decade(e) {
  const units = ["ns", "µs", "ms", "s"];
  const u = Math.min(units.length - 1, Math.max(0, Math.floor(e / 3)));
  return `${10 ** (e - 3 * u)} ${units[u]}`;
}

/** A horizontal bar chart of the medians on a log scale, hand-written SVG. */
export function toSvg(r) {
  const rows = r.cases;
  const labelW = 430;
  const chartW = 470;
  const valueW = 90;
  const rowH = 22;
  const top = 54;
  const bottom = 40;
  const width = labelW + chartW + valueW + 20;
  const height = top + rows.length * rowH + bottom;
  const values = rows.map((c) => c.medianNs).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  const x = (v) => labelW + ((Math.log10(v) - lo) / Math.max(1, hi - lo)) * chartW;
  const S = [];
  S.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  S.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  S.push(
    `<text x="10" y="20" font-size="15" font-weight="bold">fiberhost benchmarks: ${esc(r.engine)} (${esc(r.engineVersion)})</text>`,
  );
  S.push(
    `<text x="10" y="38" fill="#555">median time per operation, log scale; ${esc(r.cpu)}; ${esc(r.date.slice(0, 10))}${r.quick ? "; quick run" : ""}</text>`,
  );
  for (let e = lo; e <= hi; e++) {
    const gx = x(10 ** e);
    S.push(
      `<line x1="${gx.toFixed(1)}" y1="${top - 4}" x2="${gx.toFixed(1)}" y2="${top + rows.length * rowH}" stroke="#ddd"/>`,
    );
    S.push(
      `<text x="${gx.toFixed(1)}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#555">${esc(decade(e))}</text>`,
    );
  }
  rows.forEach((c, i) => {
    const y = top + i * rowH;
    const colour = GROUP_COLOURS[c.group] ?? "#444";
    const w = Math.max(1, x(c.medianNs) - labelW);
    S.push(`<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(c.name)}</text>`);
    S.push(
      `<rect x="${labelW}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${colour}"><title>${esc(`${c.name}: ${fmtNs(c.medianNs)} per ${c.op} (p95 ${fmtNs(c.p95Ns)})`)}</title></rect>`,
    );
    S.push(
      `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}" fill="#222">${esc(`${fmtNs(c.medianNs)}/${c.op}`)}</text>`,
    );
  });
  let lx = 10;
  const ly = height - 10;
  for (const [group, colour] of Object.entries(GROUP_COLOURS)) {
    if (!rows.some((c) => c.group === group)) continue;
    S.push(`<rect x="${lx}" y="${ly - 10}" width="10" height="10" fill="${colour}"/>`);
    S.push(`<text x="${lx + 14}" y="${ly}">${group}</text>`);
    lx += 24 + group.length * 7;
  }
  S.push("</svg>");
  return S.join("\n") + "\n";
}

/** Writes <dir>/<engine>.json, .md and .svg; answers the aggregated results. */
export function writeResults(dir, runs, meta) {
  const r = aggregate(runs, meta);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${r.engine}.json`), JSON.stringify(r, null, 2) + "\n");
  writeFileSync(join(dir, `${r.engine}.md`), toMarkdown(r));
  writeFileSync(join(dir, `${r.engine}.svg`), toSvg(r));
  return r;
}

/** The order processes run in: round-robin over suites, so drift spreads over every suite. */
export function schedule(quick, only, engine = "node") {
  const plan = quick ? PLANS.quick : PLANS.full;
  const suites = Object.keys(SUITES).filter(
    (s) => (!only || only.includes(s)) && (engine === "node" || !NODE_ONLY_SUITES.includes(s)),
  );
  const order = [];
  for (let round = 0; round < plan.processes; round++) for (const s of suites) order.push({ round, suite: s });
  return order;
}

/** Which sources the measured dist/ was built from: the commit, and the files of src/ and assembly/ changed since. */
export function provenance(root) {
  try {
    const git = (...args) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
    const changed = git("status", "--porcelain", "--", "src", "assembly").split("\n").filter(Boolean);
    return { commit: git("rev-parse", "HEAD"), uncommittedSourceChanges: changed };
  } catch {
    return null;
  }
}

// `node bench/report.js [DIR]`: renders the Markdown and SVG again from DIR/<engine>.json
// (bench/results by default), after a change to the rendering only.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "results");
  for (const engine of ["node", "chromium"]) {
    const file = join(dir, `${engine}.json`);
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(join(dir, `${engine}.md`), toMarkdown(r));
    writeFileSync(join(dir, `${engine}.svg`), toSvg(r));
    console.log(`rendered ${join(dir, engine)}.{md,svg}`);
  }
}
