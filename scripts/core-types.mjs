// Writes the TypeScript side of the core's interface from assembly/: the layout constants (from
// assembly/layout.ts), the core's answers (assembly/hresult.ts) and the exports' signatures (the
// functions assembly/index.ts exports), so that each number is written once, in assembly/, and a
// change there fails the host's type check. Called by scripts/build-core.mjs after it compiled
// the core; the values it parses are checked against the compiled core's exported globals.
import ts from "typescript";
import { readFileSync } from "node:fs";

/**
 * Constant families: a prefix of assembly/layout.ts becomes a const enum (tsc inlines its members);
 * sizes (…_SIZE) and the rest go to the enum Layout.
 */
const FAMILIES = [
  ["FRAME_", "FrameKind", "Transition frame kinds (FRAME_*): the kind of a task's top frame is its mode."],
  ["OP_", "Transition", "The four transitions (OP_*), in the order of their counters."],
  ["ACT_", "Act", "What a transition does to the frame stack (ACT_*): the entries of the core's RULES table."],
  ["C_", "Counter", "Counters (C_*): per task a u32 low word (its high word in the side record), in total f64."],
  ["T_", "SlotField", "A task slot's i32 fields by index (T_*); the counters' low words from T_COUNTERS."],
  ["X_", "SideField", "A task's side record's i32 fields by index (X_*): what few tasks set."],
  ["STATE_", "TaskState", "A task slot's state (STATE_*)."],
  ["FLAG_", "TaskFlag", "Bits of a task's T_FLAGS word (FLAG_*), above its state's byte."],
  ["H_", "HeaderField", "The header's i32 fields by index (H_*); H_TOTALS is a byte offset."],
  ["R_", "ThreadField", "A thread record's i32 fields by index (R_*); R_RETIRED is a byte offset (f64 sums)."],
  ["CTL_", "Ctl", "Bits of the control word H_CTL (CTL_*): 0 means transitions may take the fast path."],
  ["RUNTIME_", "RuntimeState", "What runtimeState() answers (RUNTIME_*)."],
  ["EV_", "TraceKind", "Trace event kinds (EV_*); a transition's kind is EV_TRANSITION + its op."],
];

function parse(path) {
  return ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.ES2022, true);
}

function isExported(node) {
  return (ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Export) !== 0;
}

/** The comment a declaration carries: its JSDoc, or a `//` comment at the end of its line. */
function commentOf(node, sf) {
  const text = sf.getFullText();
  const jsdoc = (ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [])
    .map((r) => text.slice(r.pos, r.end))
    .filter((c) => c.startsWith("/**"))
    .pop();
  if (jsdoc)
    return jsdoc
      .replace(/^\/\*\*\s*|\s*\*\/$/g, "")
      .replace(/\n\s*\*\s?/g, " ")
      .replace(/^\*\s*/, "")
      .trim();
  const trailing =
    ts.getTrailingCommentRanges(text, node.getEnd() + 1) ?? ts.getTrailingCommentRanges(text, node.getEnd());
  const line = (trailing ?? []).map((r) => text.slice(r.pos, r.end)).find((c) => c.startsWith("//"));
  return line ? line.replace(/^\/\/\s*/, "") : "";
}

/** Evaluates a constant's initializer: literals, earlier constants, and integer arithmetic. */
function evaluate(expr, known, where) {
  if (ts.isNumericLiteral(expr)) return Number(expr.text);
  if (ts.isParenthesizedExpression(expr)) return evaluate(expr.expression, known, where);
  if (ts.isIdentifier(expr)) {
    if (!known.has(expr.text)) throw new Error(`${where}: ${expr.text} is not a constant declared before it`);
    return known.get(expr.text);
  }
  if (ts.isPrefixUnaryExpression(expr)) {
    const v = evaluate(expr.operand, known, where);
    if (expr.operator === ts.SyntaxKind.MinusToken) return -v;
    if (expr.operator === ts.SyntaxKind.TildeToken) return ~v;
  }
  if (ts.isBinaryExpression(expr)) {
    const a = evaluate(expr.left, known, where);
    const b = evaluate(expr.right, known, where);
    switch (expr.operatorToken.kind) {
      case ts.SyntaxKind.PlusToken:
        return a + b;
      case ts.SyntaxKind.MinusToken:
        return a - b;
      case ts.SyntaxKind.AsteriskToken:
        return a * b;
      case ts.SyntaxKind.LessThanLessThanToken:
        return a << b;
      case ts.SyntaxKind.GreaterThanGreaterThanToken:
        return a >> b;
      case ts.SyntaxKind.BarToken:
        return a | b;
      case ts.SyntaxKind.AmpersandToken:
        return a & b;
    }
  }
  throw new Error(`${where}: cannot evaluate ${expr.getText()} (keep layout constants to integer arithmetic)`);
}

/** The exported `const NAME: i32 = …` declarations of one file, in order. */
function constantsOf(path) {
  const sf = parse(path);
  const known = new Map();
  const out = [];
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st) || !isExported(st)) continue;
    for (const d of st.declarationList.declarations) {
      if (!d.initializer || d.type?.getText() !== "i32") continue;
      const name = d.name.getText();
      const value = evaluate(d.initializer, known, `${path}: ${name}`);
      known.set(name, value);
      out.push({ name, value, doc: commentOf(st, sf) });
    }
  }
  return out;
}

const AS_NUMBER = new Set([
  "i32",
  "u32",
  "i64",
  "u64",
  "f32",
  "f64",
  "usize",
  "isize",
  "bool",
  "i8",
  "u8",
  "i16",
  "u16",
]);

function tsType(t, where) {
  if (t === "void") return "void";
  if (AS_NUMBER.has(t)) return "number"; // a bool crosses the boundary as an i32
  throw new Error(`${where}: no host type for the AssemblyScript type ${t}`);
}

/** The exported functions of the core, as assembly/index.ts re-exports them, with their signatures. */
function exportsOf(dir) {
  const index = parse(`${dir}/index.ts`);
  const fns = [];
  const globals = [];
  const functionsIn = (sf) =>
    new Map(
      sf.statements.filter((s) => ts.isFunctionDeclaration(s) && s.name).map((s) => [s.name.text, { decl: s, sf }]),
    );
  const add = (name, found, where) => {
    if (!found) throw new Error(`${where}: cannot find the exported function ${name}`);
    const { decl, sf } = found;
    const params = decl.parameters.map((p) => `${p.name.getText()}: ${tsType(p.type?.getText(), `${name}`)}`);
    fns.push({ name, params, ret: tsType(decl.type?.getText() ?? "void", name), doc: commentOf(decl, sf) });
  };
  for (const st of index.statements) {
    if (ts.isExportDeclaration(st) && st.moduleSpecifier && st.exportClause && ts.isNamedExports(st.exportClause)) {
      const path = `${dir}/${st.moduleSpecifier.text.replace(/^\.\//, "")}.ts`;
      const sf = parse(path);
      const local = functionsIn(sf);
      for (const el of st.exportClause.elements) {
        const name = el.name.text;
        if (local.has(name)) add(name, local.get(name), path);
        else globals.push(name); // an exported global that is not layout (RULES: an address)
      }
    } else if (ts.isFunctionDeclaration(st) && st.name && isExported(st)) {
      add(st.name.text, { decl: st, sf: index }, `${dir}/index.ts`);
    }
  }
  return { fns, globals };
}

function docLine(doc, indent = "") {
  return doc ? `${indent}/** ${doc.replace(/\*\//g, "* /")} */\n` : "";
}

function hex(v) {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}

/**
 * The generated module's text. `globals` are the compiled core's exported globals (name → i32
 * value): every layout constant must be one of them, with the same value.
 */
export function coreTypesModule(dir, globals) {
  const layout = constantsOf(`${dir}/layout.ts`);
  for (const c of layout) {
    if (!(c.name in globals)) throw new Error(`assembly/layout.ts: ${c.name} is not exported by the compiled core`);
    if ((globals[c.name] | 0) !== (c.value | 0)) {
      throw new Error(`assembly/layout.ts: ${c.name} parses as ${c.value}, the compiled core says ${globals[c.name]}`);
    }
  }
  const answers = constantsOf(`${dir}/hresult.ts`);
  const { fns, globals: otherGlobals } = exportsOf(dir);

  const families = new Map(FAMILIES.map(([prefix, name, doc]) => [prefix, { name, doc, members: [] }]));
  const rest = [];
  for (const c of layout) {
    const prefix = c.name.endsWith("_SIZE") ? undefined : FAMILIES.map(([p]) => p).find((p) => c.name.startsWith(p));
    if (prefix) families.get(prefix).members.push({ ...c, member: c.name.slice(prefix.length) });
    else rest.push({ ...c, member: c.name });
  }

  let s = "// Generated by scripts/build-core.mjs (scripts/core-types.mjs) from assembly/: do not edit.\n";
  s += "// Each number here is written once, in assembly/; the host reads it from this module only.\n\n";
  s += 'import type * as hr from "../../base/hresult.js";\n\n';
  const enumOf = (name, doc, members, value = (m) => String(m.value)) => {
    s += docLine(doc);
    s += `export const enum ${name} {\n`;
    for (const m of members) s += `${docLine(m.doc, "  ")}  ${m.member} = ${value(m)},\n`;
    s += "}\n\n";
  };
  for (const { name, doc, members } of families.values()) {
    if (members.length === 0) throw new Error(`assembly/layout.ts declares no ${name} constants any more`);
    enumOf(name, doc, members);
  }
  enumOf("Layout", "Sizes and limits of the core's memory layout.", rest);
  enumOf(
    "CoreAnswer",
    "What the core answers (assembly/hresult.ts): the contract's HRESULTs in their unsigned form, and MUST_WAIT_FOR_RESUME.",
    answers.map((a) => ({ ...a, member: a.name })),
    (m) => (m.value < 0 || m.value > 0xffff ? hex(m.value) : String(m.value)),
  );

  s += "/** A type error here means the core and src/base/hresult.ts disagree on an HRESULT. */\n";
  s += "type Agrees<A extends B, B> = A;\n";
  s += "export type CoreAnswersAgree = [\n";
  for (const a of answers.filter((x) => x.name !== "MUST_WAIT_FOR_RESUME")) {
    s += `  Agrees<typeof hr.${a.name}, ${a.value >>> 0}>,\n`;
  }
  s += "];\n\n";

  s += "/** The core's exported functions (assembly/index.ts), as the instance exposes them. */\n";
  s += "export interface CoreExports {\n";
  for (const f of fns) s += `${docLine(f.doc, "  ")}  ${f.name}(${f.params.join(", ")}): ${f.ret};\n`;
  for (const g of otherGlobals) s += `  readonly ${g}: WebAssembly.Global;\n`;
  s += "}\n\n";
  s += `/** The names of CoreExports, to check an instance against. */\n`;
  s += `export const CORE_FUNCTIONS = ${JSON.stringify(fns.map((f) => f.name))} as const;\n`;
  return s;
}
