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
 * The layers, lowest first (docs/architecture.md): one folder of src/ each, and src/index.ts above
 * them all. A file's layer is its folder; a folder that is not listed here, or a file directly in
 * src/ other than index.ts, is an error. Imports run within a folder or down to a lower one, so no
 * two folders import each other.
 */
const LAYERS = [
  ["base", "HRESULTs, argument checks, errors, out-parameters, value descriptions"],
  ["core", "the wasm core and its door"],
  ["kernel", "the scheduler's primitives: queues, rings, timers, clocks, commands, waitables"],
  ["task", "a task: the IHostTask / ICLRTask surface and the scheduler's per-fiber record"],
  ["trace", "the trace recorder"],
  ["scheduler", "the cooperative scheduler"],
  ["operations", "what a fiber delegates to with yield*"],
  ["sync", "IHostSyncManager's objects"],
  ["fiber", "the fiber context f"],
  ["interop", "guests: hooked instances, asyncify, JSPI, external runtimes"],
  ["host", "createHost, spawn, the task manager"],
  ["threads", "one runtime across worker threads: starting workers, keeping a waiting thread alive"],
  ["demo", "the demo scenario (the CLI's demo and the web page)"],
  ["cli", "the fiberhost command"],
];
const TOP = "index.ts";

function layerOf(file) {
  const rel = relative(join(root, "src"), file).split(sep).join("/");
  if (rel === TOP) return LAYERS.length;
  const slash = rel.indexOf("/");
  return slash < 0 ? -1 : LAYERS.findIndex(([folder]) => folder === rel.slice(0, slash));
}
const layerName = (i) => (i === LAYERS.length ? TOP : `${LAYERS[i][0]}/`);

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
  if (from < 0)
    problems.push(`${rel(file)}: in no layer (put it in a folder listed in LAYERS of scripts/check-layers.mjs)`);
  for (const { spec, line } of specifiers(file)) {
    const resolved = ts.resolveModuleName(spec, file, options, host).resolvedModule?.resolvedFileName;
    if (!resolved || !edges.has(resolved)) continue; // a package, or outside src/
    edges.get(file).push(resolved);
    const to = layerOf(resolved);
    if (from >= 0 && to > from) {
      problems.push(`${rel(file)}:${line}: upward import of ${rel(resolved)} (${layerName(from)} → ${layerName(to)})`);
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
console.log(`check:layers: ${files.length} files of src/ in ${LAYERS.length} folders, no upward import, no cycle`);
