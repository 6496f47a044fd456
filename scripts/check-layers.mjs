// The dependency rule of src/: every import (type-only imports too) goes to the same layer or a lower
// one, and no import cycle exists. Fails (exit 1) listing each upward import and each cycle.
// Imports are read with the TypeScript compiler's parser and resolved as tsc resolves them.
//
//   node scripts/check-layers.mjs          (npm run check:layers)
import ts from "typescript";
import { readdirSync, statSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const root = new URL("../", import.meta.url).pathname;

/**
 * The layers, lowest first (docs/architecture.md). A file belongs to the first layer with a pattern
 * that matches its path under src/ (a pattern ending in "/" matches a folder).
 */
const LAYERS = [
  ["numbers and argument checks", ["hresult.ts", "args.ts", "errors.ts", "out.ts", "describe.ts"]],
  ["core door", ["core/"]],
  [
    "scheduler primitives",
    [
      "scheduler/queue.ts",
      "scheduler/ring.ts",
      "scheduler/timers.ts",
      "scheduler/clock.ts",
      "scheduler/op.ts",
      "scheduler/waitable.ts",
    ],
  ],
  ["task", ["task.ts", "task-extras.ts"]],
  ["scheduler", ["scheduler/"]],
  ["operations", ["operations/"]],
  ["fiber context, sync objects", ["fiber-context.ts", "sync.ts", "sync-object.ts"]],
  ["task manager, trace", ["task-manager.ts", "trace.ts"]],
  ["interop", ["interop/"]],
  ["host", ["host.ts", "host-options.ts", "host-inspect.ts", "host-spawn.ts"]],
  ["cli", ["cli/"]],
  ["index", ["index.ts"]],
];

function layerOf(file) {
  const rel = relative(join(root, "src"), file).split(sep).join("/");
  for (let i = 0; i < LAYERS.length; i++) {
    for (const p of LAYERS[i][1]) if (p.endsWith("/") ? rel.startsWith(p) : rel === p) return i;
  }
  return -1;
}

function tsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Every module specifier a file names: imports, re-exports, import("…") types and calls. */
function specifiers(file) {
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const out = [];
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      out.push({ spec: node.moduleSpecifier.text, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      out.push({ spec: node.argument.literal.text, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      out.push({ spec: node.arguments[0].text, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const config = ts.getParsedCommandLineOfConfigFile(
  join(root, "tsconfig.json"),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} },
);
const options = config?.options ?? {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
};
const host = ts.createCompilerHost(options);

const files = tsFiles(join(root, "src"));
const edges = new Map(files.map((f) => [f, []]));
const problems = [];
const rel = (f) => relative(root, f).split(sep).join("/");

for (const file of files) {
  const from = layerOf(file);
  if (from < 0) problems.push(`${rel(file)}: in no layer of scripts/check-layers.mjs (add it to LAYERS)`);
  for (const { spec, line } of specifiers(file)) {
    const resolved = ts.resolveModuleName(spec, file, options, host).resolvedModule?.resolvedFileName;
    if (!resolved || !edges.has(resolved)) continue; // a package, or outside src/
    edges.get(file).push(resolved);
    const to = layerOf(resolved);
    if (from >= 0 && to > from) {
      problems.push(`${rel(file)}:${line}: upward import of ${rel(resolved)} (${LAYERS[from][0]} → ${LAYERS[to][0]})`);
    }
  }
}

// Cycles: the strongly connected components of the import graph (Tarjan), each shown as one cycle.
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const components = [];
function strongConnect(v) {
  index.set(v, counter);
  low.set(v, counter++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v)) {
    if (!index.has(w)) {
      strongConnect(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) === index.get(v)) {
    const c = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      c.push(w);
    } while (w !== v);
    if (c.length > 1 || edges.get(v).includes(v)) components.push(c);
  }
}
for (const f of files) if (!index.has(f)) strongConnect(f);

/** One cycle through the component, found by a breadth-first search back to its first file. */
function cycleIn(component) {
  const inside = new Set(component);
  const start = component.slice().sort()[0];
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of edges.get(v)) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x = v; x !== start; x = prev.get(x)) path.splice(1, 0, x);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
for (const c of components) {
  problems.push(`import cycle of ${c.length} files: ${cycleIn(c).map(rel).join(" → ")}`);
  problems.push(`  (all ${c.length}: ${c.map(rel).sort().join(", ")})`);
}

if (problems.length) {
  console.error(problems.join("\n"));
  const upward = problems.filter((p) => p.includes("upward import")).length;
  console.error(`\ncheck:layers: ${upward} upward imports, ${components.length} import cycles`);
  process.exit(1);
}
console.log(`check:layers: ${files.length} files of src/, no upward import, no cycle`);
