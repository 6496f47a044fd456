// Whether a build step has anything to do: a step is up to date when a stamp of its own
// (build/stamps/<step>.json) holds the hash of its inputs' contents and of its outputs' contents as
// they are now. Contents, not mtimes: a fresh clone, a checkout or a copy changes mtimes but not
// what is built; any change to an input (a file added, removed, renamed or edited under assembly/,
// src/, …), to the step's own script, or to a tool's version (its package.json is an input), and any
// output missing or edited since, makes the step run. `--force` (or FIBERHOST_REBUILD=1) always runs it.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const force = process.argv.includes("--force") || process.env.FIBERHOST_REBUILD === "1";

/** The files under `paths` (files or directories, relative to the cwd), sorted; `skip`: paths left out. */
function listFiles(paths, skip = []) {
  const out = [];
  const walk = (p) => {
    if (skip.includes(p) || !existsSync(p)) return;
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
    else out.push(p);
  };
  for (const p of paths) walk(p);
  return out;
}

/** A hash of the files' paths and contents; null when one of `required` is missing. */
function hashOf(paths, skip, required) {
  if (required.some((p) => !existsSync(p))) return null;
  const h = createHash("sha256");
  for (const f of listFiles(paths, skip)) h.update(`${f}\0`).update(readFileSync(f)).update("\0");
  return h.digest("hex");
}

/**
 * A build step: `inputs` and `outputs` are files or directories; `skip` leaves paths out of the
 * inputs (a step's outputs inside an input directory).
 */
export function step(name, { inputs, outputs, skip = [] }) {
  const file = `build/stamps/${name}.json`;
  const inputHash = () => hashOf(inputs, skip, []);
  const outputHash = () => hashOf(outputs, [], outputs);
  return {
    /** True when the stamp matches the inputs and outputs as they are now. */
    upToDate() {
      if (force || !existsSync(file)) return false;
      let stamp;
      try {
        stamp = JSON.parse(readFileSync(file, "utf8"));
      } catch {
        return false;
      }
      return stamp.inputs === inputHash() && stamp.outputs !== null && stamp.outputs === outputHash();
    },
    /** Records the inputs and outputs after a successful build. */
    done() {
      mkdirSync("build/stamps", { recursive: true });
      writeFileSync(file, JSON.stringify({ inputs: inputHash(), outputs: outputHash() }));
    },
  };
}
