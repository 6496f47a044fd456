// The one place that reads what a user hands host.instantiate: the imports object and the options.
// Each is read once, into records of our own (a getter or a Proxy answers what it likes, and may
// answer differently the second time), and every failure is an HResultError(E_INVALIDARG) naming
// the path that failed (`imports.env.log`, `options.asyncifyData.size`), never the raw error.
//
// Imports are looked up as WebAssembly looks them up (a namespace or a function inherited from
// the user's own prototypes counts; a function may be a namespace), except through the built-in
// prototypes: a guest importing "__proto__"."toString" or "constructor"."keys" finds nothing
// there (WebAssembly would hand it Object.prototype.toString or Object.keys), and what we build
// from the answers is null-prototype records, written with defineProperty, so no name a guest
// chooses reaches Object.prototype.

import { E_INVALIDARG, HResultError } from "../base/hresult.js";
import { describeValue, isDword } from "../base/args.js";
import { MIN_ASYNCIFY_DATA } from "./asyncify.js";
import type { SuspensionMode, AnyFn } from "./guest.js";
import type { StackOption } from "./stack-types.js";

export type SuspensionOption = "auto" | SuspensionMode;
const SUSPENSIONS: readonly string[] = ["auto", "asyncify", "jspi", "external", "none"];

/** instantiate's options as read: a snapshot, each field checked. */
export interface OptionsSnapshot {
  /** The names of options.suspending ("module.name"), each read once. */
  suspending: string[];
  suspension: SuspensionOption;
  asyncifyData: { address: number; size: number } | undefined;
  target: ((module: string, name: string, fn: AnyFn) => unknown) | undefined;
  /** options.stack, read once (stack-types.ts says what it may be). */
  stack: StackOption;
}

export function bad(message: string, cause?: unknown): HResultError {
  const err = new HResultError(E_INVALIDARG, `instantiate: ${message}`);
  if (cause !== undefined) (err as { cause?: unknown }).cause = cause;
  return err;
}

/** A JS-like path for messages: imports.env.log, imports["env.x"].f. */
export function pathOf(root: string, ...keys: string[]): string {
  let p = root;
  for (const k of keys) p += /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
  return p;
}

const isObjectLike = (v: unknown): v is object => (typeof v === "object" && v !== null) || typeof v === "function";

/** An own property, read once (a getter is called once): the prototype chain is not asked. */
function ownValue(o: object, key: string): unknown {
  const d = Reflect.getOwnPropertyDescriptor(o, key);
  if (d === undefined) return undefined;
  if ("value" in d) return d.value;
  return d.get === undefined ? undefined : Reflect.apply(d.get, o, []);
}

/** The prototypes every object shares: an import is never looked up there. */
const BUILT_IN: ReadonlySet<object> = new Set([Object.prototype, Function.prototype]);
const builtInName = (key: string): boolean => key in Object.prototype || key in Function.prototype;

/** obj[key] as WebAssembly's [[Get]] reads it, but never from a built-in prototype. */
function importValue(o: object, key: string): unknown {
  // A name no built-in prototype has cannot be found there: the plain read (a Proxy's get trap,
  // the user's own prototypes) is WebAssembly's.
  if (!builtInName(key)) return Reflect.get(o, key);
  for (let p: object | null = o; p !== null && !BUILT_IN.has(p); p = Reflect.getPrototypeOf(p)) {
    const d = Reflect.getOwnPropertyDescriptor(p, key);
    if (d !== undefined) return "value" in d ? d.value : d.get === undefined ? undefined : Reflect.apply(d.get, o, []);
  }
  return undefined;
}

/**
 * The values the guest imports, read once per (module, name) whatever the number of imports that
 * name them: `get(module, name)` answers the value (undefined: missing).
 */
export class ImportsSnapshot {
  private readonly spaces = new Map<string, Map<string, unknown>>();

  constructor(imports: unknown, descs: readonly WebAssembly.ModuleImportDescriptor[]) {
    if (descs.length === 0) return;
    if (!isObjectLike(imports))
      throw bad(`imports must be an object (the guest imports ${descs.length}), not ${describeValue(imports)}`);
    const namespaces = new Map<string, unknown>();
    for (const d of descs) {
      let space = this.spaces.get(d.module);
      if (space === undefined) {
        let ns: unknown;
        try {
          ns = importValue(imports, d.module);
        } catch (err) {
          throw bad(`reading ${pathOf("imports", d.module)} threw`, err);
        }
        if (!isObjectLike(ns))
          throw bad(
            `the guest imports ${d.module}.${d.name}; ${pathOf("imports", d.module)} is ${ns === undefined ? "missing" : `${describeValue(ns)}, not an object`}`,
          );
        namespaces.set(d.module, ns);
        space = new Map();
        this.spaces.set(d.module, space);
      }
      if (space.has(d.name)) continue;
      try {
        space.set(d.name, importValue(namespaces.get(d.module) as object, d.name));
      } catch (err) {
        throw bad(`reading ${pathOf("imports", d.module, d.name)} threw`, err);
      }
    }
  }

  get(module: string, name: string): unknown {
    return this.spaces.get(module)?.get(name);
  }

  /** The function the guest imports as module.name (E_INVALIDARG when it is not one). */
  fn(module: string, name: string): AnyFn {
    const v = this.get(module, name);
    if (typeof v !== "function")
      throw bad(
        `the guest imports the function ${module}.${name}; ${pathOf("imports", module, name)} is ${v === undefined ? "missing" : describeValue(v)}`,
      );
    return v as AnyFn;
  }
}

/** A record whose keys are only what we put there: no prototype, so "__proto__" is a key like any other. */
export function record<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Sets a key of a record (defineProperty: never a setter, never the prototype). */
export function put<T>(r: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(r, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Reads instantiate's options once (own properties only), checking each. */
export function readInstantiateOptions(options: unknown): OptionsSnapshot {
  if (options === undefined)
    return { suspending: [], suspension: "auto", asyncifyData: undefined, target: undefined, stack: "auto" };
  if (typeof options !== "object" || options === null)
    throw bad(`options must be an object, not ${describeValue(options)}`);
  const read = (key: string): unknown => {
    try {
      return ownValue(options, key);
    } catch (err) {
      throw bad(`reading options.${key} threw`, err);
    }
  };
  const suspending = readSuspending(read("suspending"));
  const suspension = read("suspension") ?? "auto";
  if (typeof suspension !== "string" || !SUSPENSIONS.includes(suspension))
    throw bad(
      `options.suspension must be 'auto', 'asyncify', 'jspi', 'external' or 'none', not ${describeValue(suspension)}`,
    );
  const target = read("target");
  if (target !== undefined && typeof target !== "function")
    throw bad(`options.target must be a function, not ${describeValue(target)}`);
  const data = read("asyncifyData");
  return {
    suspending,
    suspension: suspension as SuspensionOption,
    asyncifyData: data === undefined ? undefined : readRegion(data, "options.asyncifyData"),
    target: target as OptionsSnapshot["target"],
    stack: readStackOption(read("stack")),
  };
}

function readSuspending(v: unknown): string[] {
  if (v === undefined) return [];
  let names: string[];
  try {
    if (!Array.isArray(v)) throw null;
    const n = ownValue(v, "length");
    if (!isDword(n)) throw null;
    names = [];
    for (let i = 0; i < n; i++) {
      let s: unknown;
      try {
        s = ownValue(v, String(i));
      } catch (err) {
        throw bad(`reading options.suspending[${i}] threw`, err);
      }
      if (typeof s !== "string") throw null;
      names.push(s);
    }
  } catch (err) {
    if (err instanceof HResultError) throw err;
    throw bad(`options.suspending must be an array of 'module.name' strings, not ${describeValue(v)}`);
  }
  return names;
}

/** An asyncify data region: { address, size }, each field read once, 4-aligned, at least MIN_ASYNCIFY_DATA bytes. */
export function readRegion(v: unknown, what: string): { address: number; size: number } {
  const must = `${what} must be { address, size } with a 4-aligned address and a size of at least ${MIN_ASYNCIFY_DATA}`;
  if (typeof v !== "object" || v === null) throw bad(`${must}, not ${describeValue(v)}`);
  let address: unknown;
  let size: unknown;
  try {
    address = ownValue(v, "address");
  } catch (err) {
    throw bad(`reading ${what}.address threw`, err);
  }
  try {
    size = ownValue(v, "size");
  } catch (err) {
    throw bad(`reading ${what}.size threw`, err);
  }
  if (!isDword(address) || !isDword(size) || size < MIN_ASYNCIFY_DATA || address % 4 !== 0 || address + size > 2 ** 32)
    throw bad(`${must} (given address ${describeValue(address)}, size ${describeValue(size)})`);
  return { address, size };
}

/** Asks options.target for an import's target: its answer, or an HResultError naming the import. */
export function askTarget(
  target: NonNullable<OptionsSnapshot["target"]>,
  m: string,
  n: string,
  fn: AnyFn,
): number | undefined {
  let t: unknown;
  try {
    t = target(m, n, fn);
  } catch (err) {
    throw bad(`options.target threw for ${m}.${n}`, err);
  }
  if (t === undefined) return undefined;
  if (!isDword(t))
    throw bad(`options.target answered ${describeValue(t)} for ${m}.${n}: a target is an integer in 0 … 2^32−1`);
  return t;
}

const SHAPE = `'auto', 'none', 'serial' or { pointer: an exported global's name, a WebAssembly.Global, or { get(), set(v) } }`;

/** options.stack checked (a snapshot: each property read once). */
export function readStackOption(v: unknown): StackOption {
  if (v === undefined || v === "auto") return "auto";
  if (v === "none" || v === "serial") return v;
  if (typeof v !== "object" || v === null) throw bad(`options.stack must be ${SHAPE}, not ${describeValue(v)}`);
  let pointer: unknown;
  let memory: unknown;
  try {
    pointer = (v as { pointer?: unknown }).pointer;
    memory = (v as { memory?: unknown }).memory;
  } catch (err) {
    throw bad(`options.stack could not be read (${(err as Error)?.message})`);
  }
  if (memory !== undefined && !(memory instanceof WebAssembly.Memory))
    throw bad(`options.stack.memory must be a WebAssembly.Memory, not ${describeValue(memory)}`);
  const mem = memory as WebAssembly.Memory | undefined;
  if (typeof pointer === "string" || pointer instanceof WebAssembly.Global) return { pointer, memory: mem };
  if (typeof pointer === "object" && pointer !== null) {
    let get: unknown;
    let set: unknown;
    try {
      get = (pointer as { get?: unknown }).get;
      set = (pointer as { set?: unknown }).set;
    } catch (err) {
      throw bad(`options.stack.pointer could not be read (${(err as Error)?.message})`);
    }
    if (typeof get === "function" && typeof set === "function") {
      const g = get as () => number;
      const s = set as (v: number) => void;
      return { pointer: { get: () => g.call(pointer), set: (x) => void s.call(pointer, x) }, memory: mem };
    }
  }
  throw bad(`options.stack.pointer must be an exported global's name, a WebAssembly.Global or { get(), set(v) }`);
}
