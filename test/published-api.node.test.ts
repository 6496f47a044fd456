// Every name the published types show a user, compared with the documented list: each export of
// the package's entries (dist/index.d.ts, dist/interop/emscripten.d.ts) and each public member of
// an exported class or interface (inherited ones included: what a user's editor offers), as the
// TypeScript compiler reads the emitted .d.ts. The list is test/fixtures/published-api.txt, which
// the README's API overview links to: a new public member fails this test until it is listed (and
// documented), a member removed fails it until it is struck. After a deliberate change, rewrite
// the list with FIBERHOST_UPDATE_API=1 and review its diff.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { buildDist, ROOT } from "./support/build-dist.js";

const LIST = join(ROOT, "test", "fixtures", "published-api.txt");
const ENTRIES: readonly [string, string][] = [
  ["fiberhost", "dist/index.d.ts"],
  ["fiberhost/emscripten", "dist/interop/emscripten.d.ts"],
];

let api: string[] = [];
beforeAll(async () => {
  await buildDist();
  api = publishedApi();
}, 120_000);

/** Whether a member's declarations are all private or protected (not a user's to touch). */
function hidden(member: ts.Symbol): boolean {
  const decls = member.declarations ?? [];
  if (member.name.startsWith("#") || member.name.startsWith("__#")) return true;
  return (
    decls.length > 0 &&
    decls.every((d) => {
      const flags = ts.getCombinedModifierFlags(d as ts.Declaration);
      return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0;
    })
  );
}

/** Declared in the package (not only inherited from the platform's lib: Error's stack, message…). */
function ours(member: ts.Symbol): boolean {
  return (member.declarations ?? []).some((d) => d.getSourceFile().fileName.startsWith(join(ROOT, "dist")));
}

/** `kind name` for each export of each entry, and `kind Owner.member` for each public member. */
function publishedApi(): string[] {
  const files = ENTRIES.map(([, f]) => join(ROOT, f));
  const program = ts.createProgram(files, { strict: true, target: ts.ScriptTarget.ES2022, noEmit: true });
  const checker = program.getTypeChecker();
  const lines = new Set<string>();
  for (const [entry, file] of ENTRIES) {
    const source = program.getSourceFile(join(ROOT, file))!;
    const module = checker.getSymbolAtLocation(source)!;
    for (const exported of checker.getExportsOfModule(module)) {
      const sym = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const name = exported.name;
      const f = sym.flags;
      const kind =
        f & ts.SymbolFlags.Class
          ? "class"
          : f & ts.SymbolFlags.Interface
            ? "interface"
            : f & ts.SymbolFlags.Enum
              ? "enum"
              : f & ts.SymbolFlags.Function
                ? "function"
                : f & ts.SymbolFlags.Variable
                  ? "const"
                  : "type";
      lines.add(`${entry} ${kind} ${name}`);
      const owners: [string, ts.Type][] = [];
      if (f & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface))
        owners.push([name, checker.getDeclaredTypeOfSymbol(sym)]);
      if (f & ts.SymbolFlags.Class) owners.push([`${name} static`, checker.getTypeOfSymbol(sym)]);
      if (f & ts.SymbolFlags.Enum) owners.push([name, checker.getTypeOfSymbol(sym)]);
      for (const [owner, type] of owners)
        for (const member of checker.getPropertiesOfType(type)) {
          if (hidden(member) || member.name === "prototype" || !ours(member)) continue;
          const what = member.flags & ts.SymbolFlags.Method ? "method" : "property";
          lines.add(`${entry} ${what} ${owner}.${member.name.replace(/^__@(\w+)@\d+$/, "[Symbol.$1]")}`);
        }
    }
  }
  return [...lines].sort();
}

describe("the published API", () => {
  it("is exactly the documented list (test/fixtures/published-api.txt, linked from the README)", () => {
    if (process.env.FIBERHOST_UPDATE_API === "1") writeFileSync(LIST, `${api.join("\n")}\n`);
    const listed = readFileSync(LIST, "utf8").split("\n").filter(Boolean);
    const undocumented = api.filter((l) => !listed.includes(l));
    const gone = listed.filter((l) => !api.includes(l));
    expect({ undocumented, gone }).toEqual({ undocumented: [], gone: [] });
    expect(api.length).toBeGreaterThan(100);
  });

  it("shows no scheduler state: no writable outcome, no Waitable steps on the sync objects", () => {
    const members = (owner: string) => api.filter((l) => l.includes(` ${owner}.`)).map((l) => l.split(".").pop());
    for (const m of ["value", "outcome", "waitAlertable", "state", "bits", "pending", "env", "extra", "iter"])
      expect(members("Task"), `Task.${m}`).not.toContain(m);
    for (const owner of ["Crst", "AutoEvent", "ManualEvent", "Semaphore", "SyncObject"])
      for (const m of ["tryAcquire", "waitsFor", "describe", "enqueue", "remove", "watch", "madeWith"])
        expect(members(owner), `${owner}.${m}`).not.toContain(m);
    // The README's API overview names the list.
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const overview = readme.slice(readme.indexOf("### API overview"), readme.indexOf("### The rules"));
    expect(overview).toContain("test/fixtures/published-api.txt");
  });
});
