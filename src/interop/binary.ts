// Reads the function signatures of a module's imports and exports from its bytes (the JS API
// does not reflect them): the hooked wrappers are made per arity (rest parameters would allocate
// on every crossing) and JSPI's trampolines per signature. Only what those need is read; a module
// this reader does not understand (GC rec groups, for instance) answers null, and the callers
// fall back (rest parameters; no JSPI).

/** A function type: value types as their binary codes (0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64, …). */
export interface Signature {
  params: number[];
  results: number[];
}

/** A function import: its (module, name) pair, never joined into one string ("env.x" + "f" and "env" + "x.f" differ). */
export interface FunctionImport {
  module: string;
  name: string;
  sig: Signature;
}

export interface Signatures {
  /**
   * Every function import, in the module's order (WebAssembly.Module.imports' order, function
   * imports only). One (module, name) may be imported several times, with different signatures.
   */
  imports: FunctionImport[];
  /** export name of every function export → its signature. */
  exports: Map<string, Signature>;
  /** The module has a start function (guest code that runs at instantiation). */
  hasStart: boolean;
  /**
   * export name of every function export defined in the module with a body of at most
   * SMALL_BODY bytes → that body (locals and code, a view of the bytes): what asyncify-controls.ts
   * recognises Binaryen's asyncify functions by when their names are minified.
   */
  smallBodies: Map<string, Uint8Array>;
}

/** The largest body kept in smallBodies (Binaryen's asyncify functions take 25 bytes). */
const SMALL_BODY = 48;

const SIMPLE_TYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);

class Reader {
  at = 0;
  constructor(private readonly b: Uint8Array) {}
  byte(): number {
    if (this.at >= this.b.length) throw new RangeError("truncated module");
    return this.b[this.at++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new RangeError("bad LEB128");
    }
  }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.b.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }
  valType(): number {
    const t = this.byte();
    if (!SIMPLE_TYPES.has(t)) throw new TypeError(`value type 0x${t.toString(16)}`);
    return t;
  }
  limits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}

export function readSignatures(bytes: Uint8Array): Signatures | null {
  try {
    return read(bytes);
  } catch {
    return null;
  }
}

function read(bytes: Uint8Array): Signatures {
  const r = new Reader(bytes);
  r.at = 8; // magic and version
  const types: Signature[] = [];
  const funcTypes: number[] = []; // function index space: imports first
  const imports: FunctionImport[] = [];
  const exports = new Map<string, Signature>();
  const exported = new Map<number, string[]>(); // function index → its export names
  const smallBodies = new Map<string, Uint8Array>();
  let hasStart = false;
  while (r.at < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.at + size;
    if (id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        if (r.byte() !== 0x60) throw new TypeError("not a plain function type");
        const params: number[] = [];
        for (let p = r.u32(); p > 0; p--) params.push(r.valType());
        const results: number[] = [];
        for (let p = r.u32(); p > 0; p--) results.push(r.valType());
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        if (kind === 0) {
          const type = r.u32();
          if (type >= types.length) throw new RangeError("type index");
          funcTypes.push(type);
          imports.push({ module, name, sig: types[type] });
        } else if (kind === 1) {
          r.valType();
          r.limits();
        } else if (kind === 2) {
          r.limits();
        } else if (kind === 3) {
          r.valType();
          r.byte();
        } else if (kind === 4) {
          r.byte();
          r.u32();
        } else throw new TypeError(`import kind ${kind}`);
      }
    } else if (id === 3) {
      for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32());
    } else if (id === 8) {
      hasStart = true;
    } else if (id === 7) {
      for (let n = r.u32(); n > 0; n--) {
        const name = r.name();
        const kind = r.byte();
        const index = r.u32();
        if (kind === 0) {
          exports.set(name, types[funcTypes[index]]);
          const names = exported.get(index);
          if (names === undefined) exported.set(index, [name]);
          else names.push(name);
        }
      }
    } else if (id === 10) {
      // Only each body's size is read (no instruction is decoded), and only small exported ones kept.
      for (let n = r.u32(), index = imports.length; n > 0; n--, index++) {
        const size = r.u32();
        const names = size <= SMALL_BODY ? exported.get(index) : undefined;
        if (names !== undefined) for (const name of names) smallBodies.set(name, bytes.subarray(r.at, r.at + size));
        r.at += size;
      }
    }
    r.at = end;
  }
  return { imports, exports, hasStart, smallBodies };
}
