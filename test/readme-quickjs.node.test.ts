// The README's QuickJS example (section "Guests whose own runtime suspends them") runs as written:
// the block after its marker, saved as a module in the repository (so that "fiberhost" resolves to
// the built package by its own name, and QuickJS's packages from node_modules), run by Node.
import { describe, it, expect } from "vitest";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildDist, ROOT } from "./support/build-dist.js";

describe("README: QuickJS through fiberhost/emscripten", () => {
  it("the example prints what its comment says", async () => {
    await buildDist();
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const at = readme.indexOf("<!-- readme-quickjs:");
    expect(at).toBeGreaterThan(0);
    const block = /```js\n([\s\S]*?)```/.exec(readme.slice(at));
    expect(block).not.toBeNull();
    const dir = join(ROOT, "node_modules", ".cache", "fiberhost-readme");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "quickjs.mjs");
    // In node_modules/.cache, "fiberhost" does not resolve by self-reference: name the built entry points.
    const code = block![1]
      .replace('from "fiberhost";', `from ${JSON.stringify(join(ROOT, "dist", "index.js"))};`)
      .replace(
        'from "fiberhost/emscripten";',
        `from ${JSON.stringify(join(ROOT, "dist", "interop", "emscripten.js"))};`,
      );
    writeFileSync(file, code);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [file], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    expect(out.trim()).toBe("[ 11, 21, 31 ]");
  });
});
