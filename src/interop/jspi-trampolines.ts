// The JSPI trampolines: tiny wasm modules, built once per signature, that sit between a guest and
// JSPI. An import trampoline calls a Suspending import (or its plain path when the call is not an
// f.call's own: a permit global says which) and then `resumed`, so the fiber is lent to the guest in
// wasm, right where it resumes; an export trampoline calls the export and then `returned` with its
// result, or `threw` when an exception leaves the guest. jspi.ts uses them.

import type { Signature } from "./binary.js";

function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}
const vec = (items: number[][]): number[] => [...u32(items.length), ...items.flat()];
const str = (s: string): number[] => [...u32(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...u32(body.length), ...body];
const funcType = (sig: Signature): number[] => [
  0x60,
  ...vec(sig.params.map((t) => [t])),
  ...vec(sig.results.map((t) => [t])),
];
const VOID: Signature = { params: [], results: [] };

/**
 * One function `f` (of types[0]) after `funcImports` imported functions; imports as encoded
 * entries; `locals`: the value types of its locals.
 */
function moduleBytes(
  types: Signature[],
  imports: number[][],
  funcImports: number,
  body: number[],
  locals: number[] = [],
): Uint8Array {
  const code = [...vec(locals.map((t) => [1, t])), ...body, 0x0b];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types.map(funcType))),
    ...section(2, vec(imports)),
    ...section(3, vec([u32(0)])),
    ...section(7, vec([[...str("f"), 0x00, ...u32(funcImports)]])),
    ...section(10, vec([[...u32(code.length), ...code]])),
  ]);
}

const key = (sig: Signature): string => `${sig.params.join(",")}>${sig.results.join(",")}`;
const importTrampolines = new Map<string, WebAssembly.Module>();
const exportTrampolines = new Map<string, WebAssembly.Module>();

function getArgs(sig: Signature): number[] {
  return sig.params.flatMap((_, i) => [0x20, ...u32(i)]);
}

/**
 * (import t.s sig) Suspending; (import t.p sig) plain path; (import t.r) resumed; (import t.permit (mut i32)):
 * f = if permit then s(args); r() else p(args)
 */
export function importTrampoline(sig: Signature): WebAssembly.Module {
  let m = importTrampolines.get(key(sig));
  if (m) return m;
  const blockType = sig.results.length === 0 ? 0x40 : sig.results[0];
  const body = [
    0x23,
    0x00, // global.get permit
    0x04,
    blockType,
    ...getArgs(sig),
    0x10,
    0x00, // call s
    0x10,
    0x02, // call r
    0x05,
    ...getArgs(sig),
    0x10,
    0x01, // call p
    0x0b,
  ];
  m = new WebAssembly.Module(
    moduleBytes(
      [sig, VOID],
      [
        [...str("t"), ...str("s"), 0x00, 0x00],
        [...str("t"), ...str("p"), 0x00, 0x00],
        [...str("t"), ...str("r"), 0x00, 0x01],
        [...str("t"), ...str("permit"), 0x03, 0x7f, 0x01],
      ],
      3,
      body,
    ) as BufferSource,
  );
  importTrampolines.set(key(sig), m);
  return m;
}

/**
 * (import t.f sig) the export; (import t.r) returned; (import t.x) threw:
 * f = try f(args); r(result) catch_all x(); rethrow end. `x` hears of an exception leaving the
 * guest (not of a trap: wasm cannot catch those) before the export's promise rejects, a
 * microtask later (jspi.ts). Where the engine refuses wasm exceptions (legacy try / catch_all),
 * the trampoline has no catch, and the export's rejection is the first sign.
 */
export function exportTrampoline(sig: Signature): WebAssembly.Module {
  let m = exportTrampolines.get(key(sig));
  if (m) return m;
  // r takes the export's result: an f.call whose guest never suspended has it at once, without
  // waiting for the promising export's promise (a turn of the event loop).
  const tmp = u32(sig.params.length);
  const call =
    sig.results.length === 0
      ? [...getArgs(sig), 0x10, 0x00, 0x10, 0x01]
      : [...getArgs(sig), 0x10, 0x00, 0x22, ...tmp, 0x10, 0x01, 0x20, ...tmp]; // local.tee, call r, local.get
  const blockType = sig.results.length === 0 ? 0x40 : sig.results[0];
  // try (bt) call… catch_all call x; rethrow 0 end
  const guarded = [0x06, blockType, ...call, 0x19, 0x10, 0x02, 0x09, 0x00, 0x0b];
  const types = [sig, { params: sig.results, results: [] }, VOID];
  const imports = [
    [...str("t"), ...str("f"), 0x00, 0x00],
    [...str("t"), ...str("r"), 0x00, 0x01],
    [...str("t"), ...str("x"), 0x00, 0x02],
  ];
  try {
    m = new WebAssembly.Module(moduleBytes(types, imports, 3, guarded, sig.results) as BufferSource);
  } catch {
    m = new WebAssembly.Module(moduleBytes(types, imports, 3, call, sig.results) as BufferSource);
  }
  exportTrampolines.set(key(sig), m);
  return m;
}
