// Measures the in-fiber assertions that cannot fail: every `expect(` whose nearest enclosing
// function is a generator (a fiber body), inverted one at a time (`.not` added before its matcher,
// or removed where there is one); the file is run alone in the node project and the assertion is
// "dead" when the file stays green. Runs in a copy of the tree so the worktree stays untouched.
//
//   node scripts/dead-assertions.mjs [--list] [--jobs N] [test/x.test.ts ...]
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const listOnly = args.includes("--list");
const jobsAt = args.indexOf("--jobs");
const jobs = jobsAt >= 0 ? Number(args[jobsAt + 1]) : 2;
const given = args.filter((a, i) => a.endsWith(".ts") && args[i - 1] !== "--jobs");

function testFiles(dir) {
  const out = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const isFunction = (n) =>
  ts.isFunctionExpression(n) || ts.isFunctionDeclaration(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n);

/** Each `expect(...)...matcher(...)` statement whose nearest enclosing function is a generator. */
function findSites(file) {
  const text = readFileSync(join(root, file), "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const sites = [];
  const visit = (n, fn) => {
    if (isFunction(n)) fn = n;
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && fn?.asteriskToken) {
      // the outermost call of a chain rooted at expect(...)
      let base = n.expression.expression;
      while (ts.isPropertyAccessExpression(base)) base = base.expression;
      const parentIsChain = ts.isPropertyAccessExpression(n.parent) && n.parent.expression === n;
      if (
        ts.isCallExpression(base) &&
        ts.isIdentifier(base.expression) &&
        base.expression.text === "expect" &&
        !parentIsChain
      ) {
        const matcher = n.expression; // .toBe
        const before = matcher.expression; // expect(x)[.not][.resolves]
        let edit;
        if (ts.isPropertyAccessExpression(before) && before.name.text === "not") {
          edit = { start: before.expression.getEnd(), end: before.getEnd(), insert: "" };
        } else {
          edit = { start: before.getEnd(), end: before.getEnd(), insert: ".not" };
        }
        const { line } = sf.getLineAndCharacterOfPosition(n.getStart());
        sites.push({ file, line: line + 1, text: n.getText().replace(/\s+/g, " ").slice(0, 90), edit });
      }
    }
    ts.forEachChild(n, (c) => visit(c, fn));
  };
  visit(sf, null);
  return { text, sites };
}

const files = given.length > 0 ? given : testFiles("test").filter((f) => !f.startsWith("test/e2e"));
const all = [];
for (const f of files) {
  const { text, sites } = findSites(f);
  for (const s of sites) all.push({ ...s, source: text });
}
console.log(`${all.length} in-fiber assertions in ${new Set(all.map((s) => s.file)).size} files`);
if (listOnly) {
  for (const s of all) console.log(`${s.file}:${s.line}  ${s.text}`);
  process.exit(0);
}

// One copy of the tree per job (node_modules linked): each inverted file is written there.
const copies = [];
for (let j = 0; j < jobs; j++) {
  const dir = mkdtempSync(join(tmpdir(), "fh-dead-"));
  for (const e of readdirSync(root)) {
    if (e === "node_modules" || e === ".git") continue;
    cpSync(join(root, e), join(dir, e), { recursive: true });
  }
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  copies.push(dir);
}

function run(dir, file) {
  return new Promise((resolve) => {
    execFile(
      "npx",
      ["vitest", "run", "--project", "node", "--testTimeout=20000", file],
      { cwd: dir, maxBuffer: 64 << 20, env: { ...process.env, CI: "1" } },
      (err, stdout, stderr) => resolve({ red: err !== null, out: stdout + stderr }),
    );
  });
}

const dead = [];
let next = 0;
await Promise.all(
  copies.map(async (dir) => {
    while (next < all.length) {
      const s = all[next++];
      const src = s.source.slice(0, s.edit.start) + s.edit.insert + s.source.slice(s.edit.end);
      writeFileSync(join(dir, s.file), src);
      const { red } = await run(dir, s.file);
      writeFileSync(join(dir, s.file), s.source);
      console.log(`${red ? "red " : "DEAD"} ${s.file}:${s.line}  ${s.text}`);
      if (!red) dead.push(s);
    }
  }),
);
for (const d of copies) rmSync(d, { recursive: true, force: true });
console.log(`\n${dead.length} of ${all.length} in-fiber assertions dead (file green with the assertion inverted):`);
for (const s of dead) console.log(`  ${s.file}:${s.line}  ${s.text}`);
