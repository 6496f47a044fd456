// Compiles the inlined core once per process (per build flavour) and instantiates it per host.
// The same path serves Node and browsers: the bytes are in the bundle, nothing is fetched. The debug
// core is a module of its own, imported the first time a host asks for it: a bundler then puts it in
// a chunk of its own, which an app that only makes release hosts never loads.

import { instantiate } from "@assemblyscript/loader";
import { releaseCore } from "./generated/core-wasm.js";
import { explainCompileRefusal } from "./csp.js";

export type CoreFlavour = "release" | "debug";

const compiled = new Map<CoreFlavour, Promise<WebAssembly.Module>>();

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The compiled core, cached: compiling is the expensive part, instantiating is cheap. */
export function compileCore(flavour: CoreFlavour): Promise<WebAssembly.Module> {
  let module = compiled.get(flavour);
  if (!module) {
    const bytes =
      flavour === "debug"
        ? import("./generated/core-wasm-debug.js").then((m) => decodeBase64(m.debugCore))
        : Promise.resolve(decodeBase64(releaseCore));
    module = bytes
      .then((b) => WebAssembly.compile(b as BufferSource))
      .catch((err: unknown) => {
        // Not cached: a page that changes (a chunk that failed to load) may succeed next time.
        compiled.delete(flavour);
        throw explainCompileRefusal(err);
      });
    compiled.set(flavour, module);
  }
  return module;
}

export interface CoreInstance {
  exports: WebAssembly.Exports;
  memory: WebAssembly.Memory;
  /** The memory's maximum, in 64 KiB pages (the JS API does not tell it). */
  maxPages: number;
}

/**
 * A fresh instance with its own memory of `maxPages` (64 KiB pages), so a host can be given a
 * budget: allocations beyond it answer E_OUTOFMEMORY. `initialPages` (default: all of `maxPages`)
 * are reserved at creation: the core grows its memory only past them.
 */
export async function instantiateCore(
  flavour: CoreFlavour,
  maxPages: number,
  now: () => number,
  initialPages = maxPages,
): Promise<CoreInstance> {
  // Reserved at creation so that in practice the memory never grows: a growth detaches its
  // buffer, and one detached ArrayBuffer anywhere in the process turns off V8's "no buffer was
  // ever detached" protector for good (every typed-array access then pays a detach check); the
  // door then makes its views and fast paths again. Untouched pages cost no RSS, but V8 counts
  // the whole initial size as external memory, and each 64 MB of it starts a full GC: a 64 MiB
  // reservation made createHost cost one mark-compact of the whole heap (6-9 ms in a small
  // process, 100+ ms beside a 100 MB heap). So the default is small (src/host/options.ts) and a host
  // that will hold many tasks asks for more (createHost({ initialMemoryBytes })).
  const memory = new WebAssembly.Memory({ initial: Math.min(initialPages, maxPages), maximum: maxPages });
  // The loader supplies `abort` (it decodes the debug core's assertion messages).
  const imports = { env: { memory, now } } as Record<string, Record<string, unknown>>;
  const { instance } = await instantiate(await compileCore(flavour), imports);
  return { exports: instance.exports, memory, maxPages };
}
