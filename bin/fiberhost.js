#!/usr/bin/env node
// The `fiberhost` command: the CLI compiled into dist/ (npm run build).
let cli;
try {
  cli = await import("../dist/cli/main.js");
} catch (err) {
  if (err?.code !== "ERR_MODULE_NOT_FOUND") throw err;
  console.error("fiberhost: the library is not built (dist/cli/main.js is missing); run `npm run build` first");
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
