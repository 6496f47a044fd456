// Issue 20, item 7: a build step runs only when something it depends on changed (scripts/stale.mjs,
// used by build-core, build-guest and build-lib): the stamp hashes contents, so an edit, a new or a
// removed input, or an output edited or deleted since, makes it run again.
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const stale = pathToFileURL(join(__dirname, "..", "scripts", "stale.mjs")).href;
let dir = "";

/** Runs one step in `dir` (a child process: the step works relative to its cwd) and says whether it built. */
function build(args: string[] = []): "built" | "skipped" {
  const script = `
    import { step } from ${JSON.stringify(stale)};
    import { readFileSync, writeFileSync } from "node:fs";
    const s = step("t", { inputs: ["in"], outputs: ["out.txt"], skip: ["in/generated"] });
    if (s.upToDate()) console.log("skipped");
    else { writeFileSync("out.txt", readFileSync("in/a.txt", "utf8").toUpperCase()); s.done(); console.log("built"); }`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script, "--", ...args], { cwd: dir });
  return out.toString().trim() as "built" | "skipped";
}

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("build steps build only what is stale", () => {
  it("skips a step whose inputs and outputs are as it left them, and runs it after any change", () => {
    dir = mkdtempSync(join(tmpdir(), "fiberhost-stamps-"));
    mkdirSync(join(dir, "in", "generated"), { recursive: true });
    writeFileSync(join(dir, "in", "a.txt"), "one");
    expect(build()).toBe("built"); // no stamp yet
    expect(build()).toBe("skipped");
    writeFileSync(join(dir, "in", "a.txt"), "two"); // an input edited
    expect(build()).toBe("built");
    expect(build()).toBe("skipped");
    writeFileSync(join(dir, "in", "b.txt"), "new"); // an input added
    expect(build()).toBe("built");
    unlinkSync(join(dir, "in", "b.txt")); // and removed
    expect(build()).toBe("built");
    writeFileSync(join(dir, "out.txt"), "edited by hand"); // an output edited
    expect(build()).toBe("built");
    unlinkSync(join(dir, "out.txt")); // an output deleted
    expect(build()).toBe("built");
    writeFileSync(join(dir, "in", "generated", "x.txt"), "an output of the step inside its inputs");
    expect(build()).toBe("skipped");
    expect(build(["--force"])).toBe("built");
  });
});
