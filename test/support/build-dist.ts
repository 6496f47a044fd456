// Builds the library into dist/ once per test process (a clean clone has none): the CLI tests run
// the built `fiberhost` command, as a user would. `npm test` has built the core already.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
let built: Promise<void> | null = null;

export function buildDist(): Promise<void> {
  built ??= new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"],
      { cwd: ROOT },
      (err, stdout) => {
        // Type errors are the type check's to report; the CLI needs the emitted files.
        if (existsSync(`${ROOT}/dist/cli/main.js`) && existsSync(`${ROOT}/dist/index.js`)) resolve();
        else reject(new Error(`tsc did not emit dist/: ${err?.message ?? ""}\n${stdout}`));
      },
    );
  });
  return built;
}
