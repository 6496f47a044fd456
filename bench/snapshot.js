// The runners measure a copy of dist/ (and of bench/) taken right after `npm run build`: the work
// tree is shared, and a rebuild of dist/ while the benchmark runs would otherwise mix two builds
// across its processes. The copy lives in bench/.tmp/snapshot/ (git-ignored); node_modules is
// found from there by Node's usual upward search, and served from the repository by the page's
// server.

import { cpSync, rmSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Copies <root>/dist (the demo guest's bytes are in dist/demo/generated), examples/c-guest/generated and <root>/bench (without .tmp and results) into bench/.tmp/snapshot; answers its path. */
export function snapshot(root, engine = "node") {
  // One copy per engine: a Node run and a browser run may overlap without sharing it.
  const dir = join(root, "bench", ".tmp", engine === "node" ? "snapshot" : `snapshot-${engine}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(root, "dist"), join(dir, "dist"), { recursive: true });
  // The guest-stack cases' C guest (built by npm run build:test-guests).
  cpSync(join(root, "examples", "c-guest", "generated"), join(dir, "examples", "c-guest", "generated"), {
    recursive: true,
  });
  for (const entry of readdirSync(join(root, "bench"))) {
    if (entry === ".tmp" || entry === "results") continue;
    cpSync(join(root, "bench", entry), join(dir, "bench", entry), { recursive: true });
  }
  return dir;
}
