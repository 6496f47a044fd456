/// <reference types="vite/client" />
// QuickJS (quickjs-emscripten, pinned in devDependencies) as the Emscripten guests of the tests:
// the wasm bytes of a variant, read from its package (Node: the file; Chromium: its URL, served by
// vite), and a module instantiated through fiberhost/emscripten's instantiateWasm.
import releaseAsyncifyUrl from "@jitl/quickjs-wasmfile-release-asyncify/wasm?url";
import debugAsyncifyUrl from "@jitl/quickjs-wasmfile-debug-asyncify/wasm?url";
import releaseSyncUrl from "@jitl/quickjs-wasmfile-release-sync/wasm?url";

export type VariantName = "release-asyncify" | "debug-asyncify" | "release-sync";

const PACKAGES: Record<VariantName, string> = {
  "release-asyncify": "@jitl/quickjs-wasmfile-release-asyncify",
  "debug-asyncify": "@jitl/quickjs-wasmfile-debug-asyncify",
  "release-sync": "@jitl/quickjs-wasmfile-release-sync",
};
const URLS: Record<VariantName, string> = {
  "release-asyncify": releaseAsyncifyUrl,
  "debug-asyncify": debugAsyncifyUrl,
  "release-sync": releaseSyncUrl,
};

const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";
const cache = new Map<VariantName, Promise<Uint8Array>>();

/** The variant's .wasm bytes (read once per test file). */
export function wasmBytes(name: VariantName): Promise<Uint8Array> {
  let p = cache.get(name);
  if (p === undefined) {
    p = (async () => {
      if (isNode) {
        const { readFileSync } = await import("node:fs");
        const { createRequire } = await import("node:module");
        const require = createRequire(import.meta.url);
        return new Uint8Array(readFileSync(require.resolve(`${PACKAGES[name]}/wasm`)));
      }
      const res = await fetch(URLS[name]);
      if (!res.ok) throw new Error(`fetch ${URLS[name]}: ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    })();
    cache.set(name, p);
  }
  return p;
}

/** The variant object of quickjs-emscripten (loaded lazily: each is a module of its own). */
// biome-ignore lint/suspicious/noExplicitAny: each variant package has its own type; the callers pass it to newVariant
export async function variant(name: VariantName): Promise<any> {
  switch (name) {
    case "release-asyncify":
      return (await import("@jitl/quickjs-wasmfile-release-asyncify")).default;
    case "debug-asyncify":
      return (await import("@jitl/quickjs-wasmfile-debug-asyncify")).default;
    case "release-sync":
      return (await import("@jitl/quickjs-wasmfile-release-sync")).default;
  }
}
