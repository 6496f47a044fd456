// Compiles the inlined core once per process (per build flavour) and instantiates it per host.
// The same path serves Node and browsers: the bytes are in the bundle, nothing is fetched. The debug
// and shared cores are modules of their own, imported the first time a host asks for one: a bundler
// then puts each in a chunk of its own, which an app that only makes release hosts never loads.
// The shared core is the release core over a shared memory (a runtime across worker threads): a
// shared import refuses a plain memory and a plain one a shared memory, hence a build of its own.

import { instantiate } from "@assemblyscript/loader";
import { releaseCore } from "./generated/core-wasm.js";
import { explainCompileRefusal } from "./csp.js";

export type CoreFlavour = "release" | "debug" | "shared";

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
        : flavour === "shared"
          ? import("./generated/core-wasm-shared.js").then((m) => decodeBase64(m.sharedCore))
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
 * The memory a core runs over. A shared core's is reserved whole (initial = maximum): a shared
 * memory never detaches on growth, so another thread's views made before a growth would keep
 * their old length and a write past it would be silently dropped.
 */
function coreMemory(flavour: CoreFlavour, maxPages: number, initialPages: number): WebAssembly.Memory {
  if (flavour === "shared") return new WebAssembly.Memory({ initial: maxPages, maximum: maxPages, shared: true });
  return new WebAssembly.Memory({ initial: Math.min(initialPages, maxPages), maximum: maxPages });
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
  // (A shared core's memory is reserved whole: see coreMemory.)
  const memory = coreMemory(flavour, maxPages, initialPages);
  // The loader supplies `abort` (it decodes the debug core's assertion messages).
  const imports = { env: { memory, now } } as Record<string, Record<string, unknown>>;
  const { instance } = await instantiate(await compileCore(flavour), imports);
  return { exports: instance.exports, memory, maxPages };
}

/**
 * Another thread of a shared core: the shared build instantiated over `memory` (the shared memory
 * of a core that a host made with the "shared" flavour and init()ed, posted to this worker), and
 * attached (its export attach(): the next thread record, and that thread's root task). Rejects
 * when the memory is not shared, or when attach() refuses (its HRESULT in the message: too many
 * threads, the core not initialised). Call its init() never: the creator did.
 */
export async function attachCore(
  memory: WebAssembly.Memory,
  maxPages: number,
  now: () => number,
): Promise<CoreInstance> {
  if (!(typeof SharedArrayBuffer === "function" && memory.buffer instanceof SharedArrayBuffer)) {
    throw new TypeError(
      "attachCore needs the shared memory of a shared core (a WebAssembly.Memory made with shared: true)",
    );
  }
  const imports = { env: { memory, now } } as Record<string, Record<string, unknown>>;
  const { instance } = await instantiate(await compileCore("shared"), imports);
  const thread = (instance.exports.attach as () => number)() | 0;
  if (thread < 0) {
    throw new Error(`the shared core refused another thread: attach() answered 0x${(thread >>> 0).toString(16)}`);
  }
  return { exports: instance.exports, memory, maxPages };
}
