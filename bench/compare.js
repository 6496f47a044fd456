// Compares two full runs case by case: `node bench/compare.js OLD.json NEW.json` (for instance the
// committed results before a change, `git show HEAD~5:bench/results/node.json > /tmp/old.json`,
// against bench/results/node.json). Prints every case's median before and after, the change, and
// whether it is beyond the noise: outside the range of the old run's process medians widened by
// the new run's (a shared machine moves a median by 10–30% between runs; one process's median
// says little).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One row per case present in both runs: { name, before, after, change, beyondNoise }. */
export function compareRuns(before, after) {
  const rows = [];
  for (const b of before.cases) {
    const a = after.cases.find((c) => c.name === b.name);
    if (!a) continue;
    const change = a.medianNs / b.medianNs - 1;
    const lo = Math.min(...b.runMediansNs);
    const hi = Math.max(...b.runMediansNs);
    const beyondNoise = a.medianNs > hi * 1.05 ? "slower" : a.medianNs < lo * 0.95 ? "faster" : "";
    rows.push({ name: b.name, before: b.medianNs, after: a.medianNs, change, beyondNoise });
  }
  return rows;
}

const ns = (x) =>
  x >= 1e6 ? `${(x / 1e6).toPrecision(3)} ms` : x >= 1e3 ? `${(x / 1e3).toPrecision(3)} µs` : `${x.toPrecision(3)} ns`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [oldFile, newFile] = process.argv.slice(2);
  if (!oldFile || !newFile) {
    console.error("usage: node bench/compare.js OLD.json NEW.json");
    process.exit(2);
  }
  const before = JSON.parse(readFileSync(oldFile, "utf8"));
  const after = JSON.parse(readFileSync(newFile, "utf8"));
  console.log(`| case | before | after | change | beyond noise |\n|---|---|---|---|---|`);
  for (const r of compareRuns(before, after)) {
    const pct = `${r.change >= 0 ? "+" : ""}${(r.change * 100).toFixed(0)}%`;
    console.log(`| ${r.name} | ${ns(r.before)} | ${ns(r.after)} | ${pct} | ${r.beyondNoise} |`);
  }
  // Ratios are taken within one process, so a machine slower in one run than in the other moves
  // them less than the medians: the fairer comparison where both runs have them.
  console.log(`\n| ratio (same process) | before | after | change |\n|---|---|---|---|`);
  for (const [name, b] of Object.entries(before.ratios ?? {})) {
    const a = after.ratios?.[name];
    if (a === undefined || b === null || a === null) continue;
    const pct = `${a >= b ? "+" : ""}${((a / b - 1) * 100).toFixed(0)}%`;
    console.log(`| ${name} | ${b.toPrecision(3)} | ${a.toPrecision(3)} | ${pct} |`);
  }
  const added = after.cases.filter((c) => !before.cases.some((b) => b.name === c.name)).map((c) => c.name);
  if (added.length) console.log(`\nnew cases: ${added.join("; ")}`);
}
