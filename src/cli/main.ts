// The `fiberhost` command line: `fiberhost demo | bench | trace FILE`, --help, --version.
// Answers an exit code: 0 done, 1 the command failed, 2 bad flags (one line naming the flag).

import { readFileSync } from "node:fs";
import { UsageError, parseCommand } from "./flags.js";
import { BENCH_HELP, bench } from "./bench-command.js";
import { DEMO_HELP, demo } from "./demo-command.js";
import { processIo, type Io } from "./io.js";
import { TRACE_HELP, trace } from "./trace-command.js";

export const HELP = `Usage: fiberhost <command> [options]

fiberhost: a cooperative fiber scheduler implementing the CLR hosting task-management contract.

Commands:
  demo         run the demo scenario (10,000 fibers by default) and print a summary
  bench        run the benchmark suite (--quick for a short run)
  trace FILE   summarise a saved trace: fibers, transitions by kind, longest waits

Options:
  -h, --help     show this help (fiberhost <command> --help: the command's own)
  -v, --version  print the version

Examples:
  fiberhost demo
  fiberhost demo --fibers 200 --seed 7 --json
  fiberhost demo --trace run.json && fiberhost trace run.json`;

const COMMANDS: Record<string, { run: (argv: string[], io: Io) => Promise<number>; help: string }> = {
  demo: { run: demo, help: DEMO_HELP },
  bench: { run: bench, help: BENCH_HELP },
  trace: { run: trace, help: TRACE_HELP },
};

export function version(): string {
  // dist/cli/main.js (and src/cli/main.ts) → <package>/package.json
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string })
    .version;
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  try {
    const first = argv[0];
    if (first === undefined || first.startsWith("-")) {
      const { values } = parseCommand("fiberhost", argv, {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      });
      if (values.version) io.out(version());
      else if (values.help) io.out(HELP);
      else {
        io.err(HELP);
        return 2;
      }
      return 0;
    }
    const command = COMMANDS[first];
    if (!command)
      throw new UsageError(
        `fiberhost: unknown command '${first}' (commands: ${Object.keys(COMMANDS).join(", ")}; see fiberhost --help)`,
      );
    return await command.run(argv.slice(1), io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(err.message);
      return 2;
    }
    io.err(`fiberhost: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}
