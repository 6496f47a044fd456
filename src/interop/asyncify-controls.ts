// A guest's asyncify control functions (asyncify_start_unwind, …), found by name or, when a
// release build has minified its export names (Emscripten's -O2 and above: QuickJS's
// release-asyncify build exports them as "tb", "ub", "vb", "wb"), by their code. Binaryen's
// asyncify pass writes each the same way, whatever the toolchain (Emscripten, AssemblyScript,
// clang's output asyncified by wasm-opt; checked on all three):
//   start_unwind(data) / start_rewind(data): state := 1 / 2; data global := data; the bounds check
//   stop_unwind() / stop_rewind():           state := 0; the bounds check
//   get_state(): state
// where the bounds check is `if (data.current > data.end) unreachable` (two i32.loads at offsets 0
// and 4 of the data global). The two stops have the same code: a minified one is "stop".

import type { Signature, Signatures } from "./binary.js";

export type AsyncifyControl = "start_unwind" | "stop_unwind" | "start_rewind" | "stop_rewind" | "stop" | "get_state";

const NAMED: ReadonlyMap<string, AsyncifyControl> = new Map([
  ["asyncify_start_unwind", "start_unwind"],
  ["asyncify_stop_unwind", "stop_unwind"],
  ["asyncify_start_rewind", "start_rewind"],
  ["asyncify_stop_rewind", "stop_rewind"],
  ["asyncify_get_state", "get_state"],
]);

const I32 = 0x7f;
const is = (sig: Signature | undefined, params: number[], results: number[]): boolean =>
  sig !== undefined &&
  sig.params.length === params.length &&
  sig.results.length === results.length &&
  params.every((t, i) => sig.params[i] === t) &&
  results.every((t, i) => sig.results[i] === t);

/** A setter's shape: the state it sets (0, 1, 2), the state and data globals; null: not one. */
interface Setter {
  state: number;
  stateGlobal: number;
  dataGlobal: number;
}

/** The bounds check's tail: i32.gt_u; if; unreachable; end; end (the function's). */
const TAIL = [0x4b, 0x04, 0x40, 0x00, 0x0b, 0x0b];

function setterShape(b: Uint8Array): Setter | null {
  let at = 0;
  const u32 = (): number => {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const x = b[at++];
      if (x === undefined) return -1;
      v += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) return v;
    }
    return -1;
  };
  /** i32.load's memarg: its offset (a memory index, when flagged, is read past). */
  const loadOffset = (): number => {
    if (b[at++] !== 0x28) return -1;
    const align = u32();
    if (align < 0) return -1;
    if (align & 0x40 && u32() < 0) return -1;
    return u32();
  };
  if (b[at++] !== 0x00) return null; // no locals
  if (b[at++] !== 0x41) return null; // i32.const
  const state = b[at++];
  if (state > 2) return null;
  if (b[at++] !== 0x24) return null; // global.set state
  const stateGlobal = u32();
  let dataGlobal = -1;
  if (state !== 0) {
    if (b[at++] !== 0x20 || b[at++] !== 0x00 || b[at++] !== 0x24) return null; // global.set data (local 0)
    dataGlobal = u32();
  }
  if (b[at++] !== 0x23) return null; // global.get data
  const d1 = u32();
  if (loadOffset() !== 0) return null;
  if (b[at++] !== 0x23 || u32() !== d1) return null;
  if (loadOffset() !== 4) return null;
  if (stateGlobal < 0 || d1 < 0 || (dataGlobal >= 0 && dataGlobal !== d1)) return null;
  for (const x of TAIL) if (b[at++] !== x) return null;
  return at === b.length ? { state, stateGlobal, dataGlobal: d1 } : null;
}

/**
 * The guest's asyncify control exports, export name → what it is: by name when the names are kept;
 * otherwise (sigs known) by their code, only when a whole set agrees (a start_unwind, a
 * start_rewind and a stop on the same state and data globals). Empty: none found.
 */
export function asyncifyControls(
  exports: readonly WebAssembly.ModuleExportDescriptor[],
  sigs: Signatures | null,
): Map<string, AsyncifyControl> {
  const found = new Map<string, AsyncifyControl>();
  for (const d of exports) {
    const c = d.kind === "function" ? NAMED.get(d.name) : undefined;
    if (c !== undefined) found.set(d.name, c);
  }
  if (found.size > 0 || sigs === null) return found;
  let globals: { state: number; data: number } | null = null;
  const kinds = new Set<AsyncifyControl>();
  for (const [name, body] of sigs.smallBodies) {
    const s = setterShape(body);
    if (s === null) continue;
    const sig = sigs.exports.get(name);
    const kind: AsyncifyControl | null =
      s.state === 0
        ? is(sig, [], [])
          ? "stop"
          : null
        : is(sig, [I32], [])
          ? s.state === 1
            ? "start_unwind"
            : "start_rewind"
          : null;
    if (kind === null) continue;
    if (globals === null) globals = { state: s.stateGlobal, data: s.dataGlobal };
    else if (globals.state !== s.stateGlobal || globals.data !== s.dataGlobal) return new Map(); // two sets: not one pass's
    found.set(name, kind);
    kinds.add(kind);
  }
  if (globals === null || !kinds.has("start_unwind") || !kinds.has("start_rewind") || !kinds.has("stop"))
    return new Map();
  // get_state reads the state global: `global.get state` alone (other getters look the same, on other globals).
  for (const [name, body] of sigs.smallBodies) {
    if (body.length !== 4 || body[0] !== 0x00 || body[1] !== 0x23 || body[3] !== 0x0b) continue;
    if (body[2] === globals.state && is(sigs.exports.get(name), [], [I32])) found.set(name, "get_state");
  }
  return found;
}
