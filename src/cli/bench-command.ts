// `fiberhost bench`: runs the repository's benchmark suite (bench/run-node.js) in a child process,
// against the built package. The suite is not shipped in the npm package: it needs a clone.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseCommand } from "./flags.js";
import type { Io } from "./io.js";

export const BENCH_HELP = `Usage: fiberhost bench [--quick] [--suite NAME,...]

Runs the benchmark suite (bench/run-node.js in a clone of the repository) against the built
package, each case in fresh Node processes; a full run writes bench/results/ and the README's
Performance section.

Options:
  --quick          a short run (fewer processes and iterations; results go to bench/.tmp/)
  --suite NAME,... only these suites
  -h, --help       show this help`;

// dist/cli/bench.js → <package>/bench/run-node.js
const RUNNER = fileURLToPath(new URL("../../bench/run-node.js", import.meta.url));

export async function bench(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommand("fiberhost bench", argv, {
    quick: { type: "boolean" },
    suite: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.out(BENCH_HELP);
    return 0;
  }
  if (!existsSync(RUNNER)) {
    io.err(
      `fiberhost bench: the benchmark suite is not here (${RUNNER}); it lives in a clone of the repository, not in the npm package`,
    );
    return 1;
  }
  const args = [
    RUNNER,
    ...(values.quick ? ["--quick"] : []),
    ...(values.suite ? ["--suite", String(values.suite)] : []),
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: "inherit" });
    child.on("error", (err) => {
      io.err(`fiberhost bench: ${err.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
