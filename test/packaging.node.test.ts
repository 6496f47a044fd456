// The package as npm publishes it: packed (npm pack), installed into an empty project, then used
// the ways a user would: `require("fiberhost")` (Node 20.19+ requires an ES module through the
// exports map's default condition), `import`, the `fiberhost` bin through npx, a bundle that only
// uses createHost (the debug core stays out of it), source maps that resolve, and published types
// that show none of the internals.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDist, ROOT } from "./support/build-dist.js";

const run = promisify(execFile);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

let tmp = "";
let pkg = ""; // the installed package: <tmp>/app/node_modules/fiberhost

beforeAll(async () => {
  await buildDist();
  tmp = mkdtempSync(join(tmpdir(), "fiberhost-pack-"));
  // --ignore-scripts: dist/ is built above (`prepare` would build it again).
  const { stdout } = await run(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], { cwd: ROOT });
  const tarball = join(tmp, (JSON.parse(stdout) as { filename: string }[])[0].filename);
  const app = join(tmp, "app");
  await run("mkdir", ["-p", app]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true }));
  // The one dependency comes from npm's cache (npm ci filled it); nothing else is fetched.
  await run(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], { cwd: app });
  pkg = join(app, "node_modules", "fiberhost");
}, 180_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const node = (args: string[]) => run(process.execPath, args, { cwd: join(pkg, "..", "..") });

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe("the packed package", () => {
  it("holds dist/ (the three cores, in modules of their own; a worker's bootstrap), the bin, the example guest; no sources or tests", () => {
    const list = files(pkg).map((f) => relative(pkg, f));
    for (const f of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/core/generated/core-wasm.js",
      "dist/core/generated/core-wasm-debug.js",
      "dist/core/generated/core-wasm-shared.js",
      "dist/threads/worker-main.js",
      "dist/cli/main.js",
      "bin/fiberhost.js",
      "package.json",
      "README.md",
    ]) {
      expect(list).toContain(f);
    }
    expect(list.filter((f) => f.startsWith("src/") || f.startsWith("test/") || f.startsWith("assembly/"))).toEqual([]);
  });

  it("require('fiberhost') works (Node 20.19+: the exports map's default condition) and runs a fiber", async () => {
    const { stdout } = await node([
      "-e",
      `const f = require("fiberhost");
       f.createHost({ clock: "virtual" }).then(async (host) => {
         const t = host.spawn(function* (c) { yield* c.yield(); return 42; });
         await host.run();
         console.log(typeof f.HResultError, await t.result);
       });`,
    ]);
    expect(stdout.trim()).toBe("function 42");
  });

  it("import from 'fiberhost' works, and createHost({ core: 'debug' }) loads the debug core", async () => {
    const { stdout } = await node([
      "--input-type=module",
      "-e",
      `import { createHost } from "fiberhost";
       const host = await createHost({ core: "debug" });
       console.log(host.checkInvariants());`,
    ]);
    expect(stdout.trim()).toBe("true");
  });

  it("import from 'fiberhost/emscripten' (the Emscripten adapter's subpath) works", async () => {
    const { stdout } = await node([
      "--input-type=module",
      "-e",
      `import { emscriptenGuest } from "fiberhost/emscripten";
       import { createHost, HResultError } from "fiberhost";
       const em = emscriptenGuest(await createHost(), new Uint8Array(8));
       let refused = false;
       try { emscriptenGuest({}, new Uint8Array(8)); } catch (e) { refused = e instanceof HResultError; }
       console.log(typeof em.instantiateWasm, refused);`,
    ]);
    expect(stdout.trim()).toBe("function true");
  });

  it("npx fiberhost --version answers the package's version", async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
    const { stdout } = await run(npm, ["exec", "--offline", "--", "fiberhost", "--version"], {
      cwd: join(pkg, "..", ".."),
    });
    expect(stdout.trim()).toBe(version);
  });

  it("every source map resolves: each source's text is in the map (sourcesContent)", () => {
    const maps = files(join(pkg, "dist")).filter((f) => f.endsWith(".js.map"));
    expect(maps.length).toBeGreaterThan(20);
    for (const m of maps) {
      const map = JSON.parse(readFileSync(m, "utf8")) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect(map.sources.length, m).toBeGreaterThan(0);
      map.sources.forEach((s, i) => {
        const inPackage = existsSync(resolve(dirname(m), s));
        expect(inPackage || typeof map.sourcesContent?.[i] === "string", `${relative(pkg, m)}: ${s}`).toBe(true);
      });
      // And the compiled file points at its map.
      expect(readFileSync(m.replace(/\.map$/, ""), "utf8")).toContain(`//# sourceMappingURL=${m.split("/").pop()}`);
    }
  });
});

describe("the published types", () => {
  /** The .d.ts files a user's type checker reaches from the package's types entry. */
  function reachable(): Map<string, string> {
    const seen = new Map<string, string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      const text = readFileSync(file, "utf8");
      seen.set(file, text);
      for (const [, spec] of text.matchAll(/from "(\.{1,2}\/[^"]+)\.js"/g))
        visit(resolve(dirname(file), `${spec}.d.ts`));
    };
    visit(join(pkg, "dist", "index.d.ts"));
    return seen;
  }

  it("reach neither the core door nor the scheduler, nor any member marked @internal", () => {
    const types = reachable();
    const names = [...types.keys()].map((f) => relative(join(pkg, "dist"), f));
    expect(names).toContain("host/host.d.ts");
    // core/door.d.ts is reached for the public Counters, Frame and COUNTER_NAMES, not for the door.
    expect(names).not.toContain("scheduler/scheduler.d.ts");
    for (const [file, text] of types) {
      const where = relative(pkg, file);
      expect(text, where).not.toMatch(/@internal/);
      const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, ""); // comments may name them
      expect(code, where).not.toMatch(/\bCoreDoor\b|\bScheduler\w*\b|\bTaskScheduling\b/);
    }
    // The Host a user sees: no door, no scheduler.
    const host = types.get(join(pkg, "dist", "host", "host.d.ts"))!;
    expect(host).not.toMatch(/readonly (door|sched)\b/);
  });
});

describe("a TypeScript user of the package", () => {
  it("type-checks against the published types with skipLibCheck off (what was stripped leaves no dangling name)", async () => {
    const app = join(pkg, "..", "..");
    writeFileSync(
      join(app, "use.ts"),
      `import { createHost, hresultName, type Host, type Task } from "fiberhost";
const host: Host = await createHost({ clock: "virtual" });
const t: Task = host.spawn(function* (f) { yield* f.yield(); });
const hr: number = t.abort();
console.log(hresultName(hr), host.counters().leaveRuntime);
// @ts-expect-error the door is not part of the published types
host.door;
`,
    );
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2022", "DOM"],
          types: [],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ["use.ts"],
      }),
    );
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const r = await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: app }).catch(
      (e: { stdout: string }) => e,
    );
    expect(r.stdout).toBe("");
  }, 60_000);
});

describe("a bundle that only uses createHost", () => {
  it("leaves the debug core out of the entry chunk (it is a chunk of its own, loaded on demand)", async () => {
    const { build } = await import("vite");
    const app = join(pkg, "..", "..");
    writeFileSync(
      join(app, "entry.js"),
      `import { createHost } from "fiberhost";\nconst host = await createHost();\nconsole.log(host.checkInvariants());\n`,
    );
    const out = (await build({
      root: app,
      logLevel: "silent",
      configFile: false,
      build: {
        write: false,
        minify: true,
        target: "es2022",
        modulePreload: false,
        rollupOptions: { input: join(app, "entry.js") },
      },
    })) as { output: { type: string; isEntry?: boolean; code?: string; fileName: string }[] };
    const chunks = out.output.filter((c) => c.type === "chunk");
    const { debugCore } = (await import(join(pkg, "dist/core/generated/core-wasm-debug.js"))) as { debugCore: string };
    const { releaseCore } = (await import(join(pkg, "dist/core/generated/core-wasm.js"))) as { releaseCore: string };
    const entry = chunks.find((c) => c.isEntry)!;
    expect(entry.code).toContain(releaseCore.slice(0, 200));
    expect(entry.code).not.toContain(debugCore.slice(0, 200));
    const lazy = chunks.filter((c) => !c.isEntry && c.code!.includes(debugCore.slice(0, 200)));
    // (The sizes, for the record (README, Packaging), in the message: a green run prints nothing.)
    expect(
      lazy,
      `bundle: entry ${Buffer.byteLength(entry.code!)} bytes minified, debug core chunk ${lazy.map((c) => Buffer.byteLength(c.code!)).join(", ")} bytes`,
    ).toHaveLength(1);
  });
});
