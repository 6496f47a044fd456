// The shape of wasm-bindgen's `bundler` target glue (its `x_bg.js`), written by hand: the module
// is the guest's import namespace ("./x_bg.js"), `__wbg_set_wasm` hands it the exports it calls,
// its imports read strings from the guest's memory, and its wrappers call the exports.
// biome-ignore lint/suspicious/noExplicitAny: wasm-bindgen's glue keeps the exports untyped
let wasm: any;

export function __wbg_set_wasm(val: unknown): void {
  wasm = val;
}

let cachedUint8: Uint8Array | null = null;
function getUint8Memory(): Uint8Array {
  if (cachedUint8 === null || cachedUint8.byteLength === 0) cachedUint8 = new Uint8Array(wasm.memory.buffer);
  return cachedUint8;
}

/** What the guest logged (not an import: the guest imports only the __wbg_ functions). */
export const logged: string[] = [];

export function __wbg_log_5f3c(ptr: number, len: number): void {
  logged.push(new TextDecoder().decode(getUint8Memory().subarray(ptr, ptr + len)));
}

export function __wbg_now_a1b2(): number {
  return 42;
}

/** The glue's wrapper of the guest's `greet` export. */
export function greet(n: number): number {
  return wasm.greet(n);
}
