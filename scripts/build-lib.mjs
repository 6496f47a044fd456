// Compiles src/ into dist/ with tsc (tsconfig.build.json), unless dist/ was built from the same
// sources (scripts/stale.mjs; `--force` builds anyway): `npm start` right after `npm install`
// (whose `prepare` built everything) then starts at once.
import { spawnSync } from "node:child_process";
import { step } from "./stale.mjs";

process.chdir(new URL("../", import.meta.url).pathname);

const lib = step("lib", {
  inputs: [
    "src",
    "tsconfig.json",
    "tsconfig.build.json",
    "scripts/build-lib.mjs",
    "node_modules/typescript/package.json",
  ],
  outputs: ["dist"],
});
if (lib.upToDate()) {
  console.log("dist: up to date (src/ unchanged since it was built)");
  process.exit(0);
}
const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
  stdio: "inherit",
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
lib.done();
console.log("dist: built");
