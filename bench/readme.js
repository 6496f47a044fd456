// Renders the README's Performance section from bench/results/{node,chromium}.json (it goes between
// the markers <!-- performance:start --> and <!-- performance:end -->; scripts/docs.mjs writes it
// with the docs' other generated numbers and checks them in CI; both runners call its writeDocs
// after a full run, not after --quick or --suite runs; `node scripts/docs.mjs` runs it alone).
import { readFileSync, existsSync } from "node:fs";
import { evaluateTargets } from "./report.js";

const root = new URL("../", import.meta.url);
const load = (engine) => {
  const file = new URL(`bench/results/${engine}.json`, root);
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null;
};
function ns(x) {
  if (x >= 1e6) return `${(x / 1e6).toPrecision(3)} ms`;
  if (x >= 1e3) return `${(x / 1e3).toPrecision(3)} µs`;
  return `${x.toPrecision(3)} ns`;
}
function num(x) {
  if (x >= 1e6) return `${(x / 1e6).toPrecision(3)} M`;
  if (x >= 1e4) return `${(x / 1e3).toPrecision(3)} k`;
  return x.toPrecision(3);
}
const caseOf = (r, name) => r?.cases.find((c) => c.name === name);
// The targets are evaluated again from the results' ratios and metrics: a target changed in
// bench/suites.js shows in the README without a new run.
const targetsOf = (r) => (r ? evaluateTargets(r.ratios, r.metrics, r.engine) : []);

const CASES = [
  "ReverseEnter + ReverseLeave pair",
  "LeaveRuntime + EnterRuntime pair",
  "six-step nested sequence",
  "ReverseEnter + ReverseLeave pair, two hosts through one call site",
  "empty wasm function, 2 calls",
  "plain-TS reference: ReverseEnter + ReverseLeave pair",
  "fiberhost switch (yield f.yield() ping-pong)",
  "fiberhost switch (yield* f.yield() ping-pong)",
  "raw generator yield round trip",
  "async/await ping-pong (resolved promises)",
  "Effect switch (yieldNow, default scheduler)",
  "spawn + run + exit (1,000,000 fibers)",
  "suspend + resume, 10,000 fibers held in managed mode",
  "countManaged() in the core, 100,000 fibers",
  "tasks.filter(mode === 'managed') in JS, 100,000 fibers",
  "guest export call, hooked (guest.exports.add)",
  "guest export call, unhooked (instance.exports.add)",
];

/** The README's Performance section, from bench/results/ (scripts/docs.mjs writes and checks it). */
export function renderPerformance() {
  const node = load("node");
  const chromium = load("chromium");

  const engineLine = (r) => (r ? `${r.engineVersion ?? r.engine}, ${r.cpu}, ${r.date.slice(0, 10)}` : "not run");
  let out = `## Performance

Measured by \`npm run bench\` (Node) and \`npm run bench:browser\` (headless Chromium) on the built
package, each case in 7 fresh processes (page loads) with warm-up; medians over processes, ratios
taken within a process. Full tables, p95s and method: [bench/results/node.md](bench/results/node.md),
[bench/results/chromium.md](bench/results/chromium.md); how to run: [bench/README.md](bench/README.md).

- Node: ${engineLine(node)}
- Chromium: ${engineLine(chromium)}

Each target has a limit per engine (bench/suites.js; Chromium is held to Node's where a target
names none for it).

| target | Node: limit | Node | Chromium: limit | Chromium |
|---|---|---|---|---|
`;
  const limit = (x) => (!x ? "—" : x.limit === null ? "none" : `${x.op === "<=" ? "≤" : "≥"} ${num(x.limit)}`);
  const show = (x) =>
    !x || x.value === null
      ? "not measured"
      : `${num(x.value)}${x.standIn ? "*" : ""}${x.pass === null ? "" : x.pass ? " pass" : " **miss**"}`;
  const chromiumTargets = targetsOf(chromium);
  for (const t of targetsOf(node)) {
    const c = chromiumTargets.find((x) => x.name === t.name);
    out += `| ${t.name} | ${limit(t)} | ${show(t)} | ${limit(c)} | ${show(c)} |\n`;
  }
  out +=
    "\n\\* A stand-in: a page cannot read its process's RSS, so the growth of the browser's processes' RSS (read from /proc by the runner) is shown.\n";
  out += `\n| case | Node | Chromium |\n|---|---|---|\n`;
  for (const name of CASES) {
    const a = caseOf(node, name);
    const b = caseOf(chromium, name);
    out += `| ${name} | ${a ? ns(a.medianNs) : "—"} | ${b ? ns(b.medianNs) : "—"} |\n`;
  }
  out += `
![Node medians, log scale](bench/results/node.svg)

![Chromium medians, log scale](bench/results/chromium.svg)
`;
  return out;
}
