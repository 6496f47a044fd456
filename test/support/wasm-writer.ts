// A tiny WebAssembly byte writer for test guests that the example guest cannot be: hostile
// import and export names, one name imported with two signatures, a start function, a module
// over 8 MB. Only what those tests need: function types of i32s, function/memory imports,
// functions, a memory, exports, a start function, active data segments and custom sections.

export const I32 = 0x7f;

/** Instructions (each function body gets its `end`). */
export const op = {
  localGet: (i: number) => [0x20, ...uleb(i)],
  call: (f: number) => [0x10, ...uleb(f)],
  i32Const: (v: number) => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  drop: [0x1a],
};

export interface FuncType {
  params: number[];
  results: number[];
}

export interface ModuleSpec {
  /** Function imports, numbered first in the function index space. */
  imports?: { module: string; name: string; type: FuncType }[];
  /** A memory import (module, name, minimum pages). */
  memoryImport?: { module: string; name: string; min: number };
  /** Functions defined by the module, numbered after the imports. */
  funcs?: { type: FuncType; body: number[] }[];
  /** A memory defined by the module (minimum pages). */
  memory?: { min: number };
  exports?: { name: string; kind: "func" | "memory"; index: number }[];
  start?: number;
  data?: { offset: number; bytes: Uint8Array }[];
  custom?: { name: string; bytes: Uint8Array }[];
}

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const utf8 = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
};

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

/** The module's bytes. */
export function wasmModule(spec: ModuleSpec): Uint8Array<ArrayBuffer> {
  const types: FuncType[] = [];
  const typeIndex = (t: FuncType): number => {
    const key = JSON.stringify(t);
    const at = types.findIndex((u) => JSON.stringify(u) === key);
    if (at >= 0) return at;
    types.push(t);
    return types.length - 1;
  };
  const imports = (spec.imports ?? []).map((i) => [
    ...utf8(i.module),
    ...utf8(i.name),
    0x00,
    ...uleb(typeIndex(i.type)),
  ]);
  if (spec.memoryImport) {
    const m = spec.memoryImport;
    imports.push([...utf8(m.module), ...utf8(m.name), 0x02, 0x00, ...uleb(m.min)]);
  }
  const funcs = spec.funcs ?? [];
  const funcTypes = funcs.map((f) => uleb(typeIndex(f.type)));
  const parts: Uint8Array[] = [new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])];
  const section = (id: number, body: number[] | Uint8Array): void => {
    parts.push(new Uint8Array([id, ...uleb(body.length)]));
    parts.push(body instanceof Uint8Array ? body : new Uint8Array(body));
  };
  section(
    1,
    vec(types.map((t) => [0x60, ...uleb(t.params.length), ...t.params, ...uleb(t.results.length), ...t.results])),
  );
  if (imports.length > 0) section(2, vec(imports));
  if (funcs.length > 0) section(3, vec(funcTypes));
  if (spec.memory) section(5, vec([[0x00, ...uleb(spec.memory.min)]]));
  if (spec.exports?.length)
    section(7, vec(spec.exports.map((e) => [...utf8(e.name), e.kind === "func" ? 0x00 : 0x02, ...uleb(e.index)])));
  if (spec.start !== undefined) section(8, uleb(spec.start));
  if (funcs.length > 0)
    section(
      10,
      vec(
        funcs.map((f) => {
          const body = [0x00, ...f.body, 0x0b]; // no locals
          return [...uleb(body.length), ...body];
        }),
      ),
    );
  if (spec.data?.length) {
    parts.push(new Uint8Array([11]));
    const segments: Uint8Array[] = [];
    for (const d of spec.data) {
      segments.push(new Uint8Array([0x00, 0x41, ...sleb(d.offset), 0x0b, ...uleb(d.bytes.length)]));
      segments.push(d.bytes);
    }
    const head = new Uint8Array(uleb(spec.data.length));
    const size = head.length + segments.reduce((n, s) => n + s.length, 0);
    parts.push(new Uint8Array(uleb(size)), head, ...segments);
  }
  for (const c of spec.custom ?? []) {
    const name = new Uint8Array(utf8(c.name));
    parts.push(new Uint8Array([0, ...uleb(name.length + c.bytes.length)]), name, c.bytes);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
