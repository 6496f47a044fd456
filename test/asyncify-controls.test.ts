// Binaryen's asyncify control functions found by their code when their export names are
// minified (src/interop/asyncify-controls.ts): on the real minified build (QuickJS's
// release-asyncify: exports "tb", "ub", "vb", "wb"), and on the project's own asyncify builds
// (AssemblyScript, clang + wasm-opt) with their names renamed, so that only the code can tell.
import { describe, it, expect } from "vitest";
import { asyncifyControls } from "../src/interop/asyncify-controls.js";
import { readSignatures } from "../src/interop/binary.js";
import { guestBytes } from "../src/demo/generated/guest-wasm.js";
import { cGuestBytes } from "../examples/c-guest/generated/c-guest-wasm.js";
import { wasmBytes } from "./support/quickjs.js";

function controlsOf(bytes: Uint8Array): Record<string, string> {
  const module = new WebAssembly.Module(bytes as BufferSource);
  return Object.fromEntries(asyncifyControls(WebAssembly.Module.exports(module), readSignatures(bytes)));
}

/** The bytes with every "asyncify_" renamed "xsyncify_" (same length: the sections' sizes hold). */
function renamed(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const pattern = new TextEncoder().encode("asyncify_");
  for (let i = 0; i + pattern.length <= out.length; i++)
    if (pattern.every((b, k) => out[i + k] === b)) out[i] = "x".charCodeAt(0);
  return out;
}

describe("asyncify control exports", () => {
  it("QuickJS's release-asyncify build: no asyncify_* name, its four controls found by their code", async () => {
    const bytes = await wasmBytes("release-asyncify");
    const module = new WebAssembly.Module(bytes as BufferSource);
    const names = WebAssembly.Module.exports(module).map((d) => d.name);
    expect(names.some((n) => n.startsWith("asyncify_"))).toBe(false);
    expect(WebAssembly.Module.imports(module).filter((d) => d.kind === "memory")).toEqual([
      { module: "a", name: "a", kind: "memory" },
    ]);
    // What Binaryen's pass wrote (state := 1 / 0 / 2 / 0): the two stops' code is the same.
    expect(controlsOf(bytes)).toEqual({ tb: "start_unwind", ub: "stop", vb: "start_rewind", wb: "stop" });
  });

  it("kept names are read as names (the debug build)", async () => {
    expect(controlsOf(await wasmBytes("debug-asyncify"))).toEqual({
      asyncify_start_unwind: "start_unwind",
      asyncify_stop_unwind: "stop_unwind",
      asyncify_start_rewind: "start_rewind",
      asyncify_stop_rewind: "stop_rewind",
      asyncify_get_state: "get_state",
    });
  });

  it("the project's AssemblyScript and C asyncify builds, names renamed: found by their code, get_state included", () => {
    for (const bytes of [guestBytes("asyncify"), cGuestBytes("exported")]) {
      expect(controlsOf(renamed(bytes))).toEqual({
        xsyncify_start_unwind: "start_unwind",
        xsyncify_stop_unwind: "stop",
        xsyncify_start_rewind: "start_rewind",
        xsyncify_stop_rewind: "stop",
        xsyncify_get_state: "get_state",
      });
    }
  });

  it("a build without asyncify has none (QuickJS's release-sync, the plain AssemblyScript guest)", async () => {
    expect(controlsOf(await wasmBytes("release-sync"))).toEqual({});
    expect(controlsOf(guestBytes("plain"))).toEqual({});
  });
});
