// The numbers the docs quote about speed and size, generated so that they cannot drift.
//
// Two kinds of generated text, in README.md and docs/*.md:
// - The README's Performance section, between <!-- performance:start --> and <!-- performance:end -->
//   (bench/readme.js renders it from bench/results/{node,chromium}.json).
// - The threads bench's table, between <!-- threads:start --> and <!-- threads:end -->
//   (bench/threads-report.js renders it from bench/results/threads-{node,chromium}.json).
// - Inline values: `<!-- gen SOURCE ARGS -->text<!-- /gen -->`, where the marker says where the text
//   comes from, so a reader of the Markdown sees the source and nothing else needs to be kept in step:
//     gen bench ENGINE case "NAME"         a case's median (bench/results/ENGINE.json), as "32.4 ns"
//     gen bench ENGINE ratio "NAME"        a ratio's median, as "2.42"
//     gen bench ENGINE ratio-range "NAME"  the lowest and highest of its per-process values, as "2.25–2.55"
//     gen bench ENGINE metric "NAME" [UNIT] a metric, three significant digits ("494"), then UNIT if given
//     gen core release-bytes | debug-bytes | release-kib | debug-kib   the built cores' sizes (build/, npm run build:core)
//     gen core slot-bytes                  a task slot's bytes in the core (Layout.SLOT_SIZE, src/core/generated/layout.ts)
//
// `node scripts/docs.mjs` rewrites the files; `node scripts/docs.mjs --check` (npm run check:docs, a CI
// guardrail) regenerates them in memory and fails, naming each stale block, if any file differs.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderPerformance } from "../bench/readme.js";
import { renderThreads } from "../bench/threads-report.js";

const root = new URL("../", import.meta.url);
const FILES = [
  "README.md",
  ...readdirSync(new URL("docs/", root))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

const results = {};
function bench(engine) {
  if (!(engine in results)) {
    const file = new URL(`bench/results/${engine}.json`, root);
    if (!existsSync(file)) throw new Error(`bench/results/${engine}.json is missing`);
    results[engine] = JSON.parse(readFileSync(file, "utf8"));
  }
  return results[engine];
}
function coreBytes(which) {
  const file = new URL(`build/core.${which}.wasm`, root);
  if (!existsSync(file)) throw new Error(`build/core.${which}.wasm is missing: run npm run build:core first`);
  return statSync(file).size;
}
/** A constant of the core's layout, from the types npm run build:core writes. */
function layoutValue(name) {
  const file = new URL("src/core/generated/layout.ts", root);
  if (!existsSync(file)) throw new Error("src/core/generated/layout.ts is missing: run npm run build:core first");
  const m = readFileSync(file, "utf8").match(new RegExp(`\\b${name} = (\\d+)`));
  if (!m) throw new Error(`src/core/generated/layout.ts has no ${name}`);
  return Number(m[1]);
}
const ns = (x) =>
  x >= 1e6 ? `${(x / 1e6).toPrecision(3)} ms` : x >= 1e3 ? `${(x / 1e3).toPrecision(3)} µs` : `${x.toPrecision(3)} ns`;
const grouped = (n) => n.toLocaleString("en-US");

/** The words of a marker: bare words and "quoted names". */
function words(spec) {
  return [...spec.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

/** The text a marker stands for. Throws on a marker that names nothing. */
export function generatedValue(spec) {
  const [source, ...args] = words(spec);
  if (source === "core") {
    if (args[0] === "release-bytes") return grouped(coreBytes("release"));
    if (args[0] === "debug-bytes") return grouped(coreBytes("debug"));
    if (args[0] === "release-kib") return `${(coreBytes("release") / 1024).toFixed(1)}`;
    if (args[0] === "debug-kib") return `${(coreBytes("debug") / 1024).toFixed(1)}`;
    if (args[0] === "slot-bytes") return String(layoutValue("SLOT_SIZE"));
  } else if (source === "bench") {
    const [engine, kind, name, unit] = args;
    const r = bench(engine);
    if (kind === "case") {
      const c = r.cases.find((x) => x.name === name);
      if (c) return ns(c.medianNs);
    } else if (kind === "ratio" && name in r.ratios) {
      return r.ratios[name].toFixed(2);
    } else if (kind === "ratio-range" && name in (r.ratioRuns ?? {})) {
      const runs = r.ratioRuns[name];
      return `${Math.min(...runs).toFixed(2)}–${Math.max(...runs).toFixed(2)}`;
    } else if (kind === "metric" && name in r.metrics) {
      return `${Number(r.metrics[name].toPrecision(3))}${unit ? ` ${unit}` : ""}`;
    }
  }
  throw new Error(`<!-- gen ${spec} --> names no value`);
}

const INLINE = /<!-- gen (.+?) -->([\s\S]*?)<!-- \/gen -->/g;
const PERF_START = "<!-- performance:start -->";
const PERF_END = "<!-- performance:end -->";
/** The generated blocks: their markers, what renders them, how a stale one is named. */
const BLOCKS = [
  [PERF_START, PERF_END, renderPerformance, "the Performance section (bench/readme.js)"],
  [
    "<!-- threads:start -->",
    "<!-- threads:end -->",
    renderThreads,
    "the threads bench's table (bench/threads-report.js)",
  ],
];

/** A file's text with every generated block made again, and the blocks that changed. */
export function regenerate(file, text) {
  const stale = [];
  let out = text.replace(INLINE, (_whole, spec, old) => {
    const now = generatedValue(spec);
    if (now !== old) stale.push(`${file}: <!-- gen ${spec} --> is "${old}", the source says "${now}"`);
    return `<!-- gen ${spec} -->${now}<!-- /gen -->`;
  });
  for (const [start, end, render, what] of BLOCKS) {
    const i = out.indexOf(start);
    const j = out.indexOf(end);
    if (i >= 0 && j > i) {
      const block = `\n${render()}`;
      if (out.slice(i + start.length, j) !== block) stale.push(`${file}: ${what}`);
      out = out.slice(0, i + start.length) + block + out.slice(j);
    }
  }
  return { text: out, stale };
}

/** Regenerates every file; with `check`, writes nothing and answers the stale blocks. */
export function docs({ check = false } = {}) {
  const stale = [];
  for (const file of FILES) {
    const url = new URL(file, root);
    const text = readFileSync(url, "utf8");
    const r = regenerate(file, text);
    stale.push(...r.stale);
    if (!check && r.text !== text) writeFileSync(url, r.text);
  }
  return stale;
}

/** After a full benchmark run (both runners call it): every generated block rewritten. */
export function writeDocs() {
  docs();
  console.log("README.md and docs/: generated blocks written from bench/results/ and build/");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  const stale = docs({ check });
  if (check && stale.length > 0) {
    for (const s of stale) console.log(s);
    console.log(`${stale.length} generated block(s) stale: run node scripts/docs.mjs (after npm run build:core)`);
    process.exit(1);
  }
  console.log(check ? "docs: every generated block is current" : `docs: ${stale.length} generated block(s) rewritten`);
}
