// node examples/demo.mjs (after npm run build): eight workers and 2,000 jobs, a small managed
// "application" on fiberhost (the scenario is examples/scenario.mjs). `npm start` runs the larger
// `fiberhost demo` instead.
import { writeFileSync } from "node:fs";
import * as fiberhost from "../dist/index.js";
import { runScenario } from "./scenario.mjs";

const { hresultName } = fiberhost;
const r = await runScenario(fiberhost);

for (const w of r.workers) {
  const how =
    w.outcome === "finished"
      ? `finished, counters ${w.matches ? "match" : "DO NOT match"} its tally`
      : w.outcome === "aborted"
        ? "aborted, unwound"
        : `failed: ${w.error}`;
  console.log(`${w.name.padEnd(9)} ${how}`);
}
console.log(
  `\n${r.stats.processed} of ${r.jobs} jobs in ${r.ms.toFixed(0)} ms (the aborted worker dropped the job it held), ${r.stats.collections} collections`,
);
console.log("transition counters (host totals):", r.totals);
console.log(`balanced: ${r.balanced ? "yes" : "NO"}; per-worker tallies: ${r.tallied ? "all match" : "MISMATCH"}`);
console.log(
  "live tasks:",
  r.host
    .dump()
    .map((d) => `${d.name} (${d.state}, ${d.mode}, depth ${d.depth})`)
    .join(", "),
);
console.log(
  "root task ReverseEnterRuntime:",
  hresultName(r.host.taskManager.reverseEnterRuntime()),
  "→ mode",
  r.host.rootTask.mode,
);

writeFileSync("fiberhost-trace.json", JSON.stringify(r.host.trace.toChromeTrace()));
console.log("trace written to fiberhost-trace.json (open it in https://ui.perfetto.dev)");
if (!r.balanced || !r.tallied || r.stats.processed < r.jobs - 1) process.exitCode = 1;
