// The README's wasm-bindgen path (the `bundler` target): the guest instantiated with the glue's
// module as its import namespace, the glue handed the hooked exports (`__wbg_set_wasm`), then
// `__wbindgen_start`. No Rust toolchain here: the guest is written by hand in wasm-bindgen's
// shape (imports "./x_bg.js".__wbg_*, exports memory, its functions and __wbindgen_start), and
// the glue is test/support/bindgen-glue.ts, given as its ES module namespace, as a bundler would.
import { describe, it, expect } from "vitest";
import { createHost } from "../src/index.js";
import * as glue from "./support/bindgen-glue.js";
import { expectBalanced } from "./support/fibers.js";
import { I32, op, wasmModule } from "./support/wasm-writer.js";

const NS = "./bindgen_glue_bg.js";
const HELLO = 16; // "hello" in the guest's data

const bytes = wasmModule({
  imports: [
    { module: NS, name: "__wbg_log_5f3c", type: { params: [I32, I32], results: [] } },
    { module: NS, name: "__wbg_now_a1b2", type: { params: [], results: [I32] } },
  ],
  funcs: [
    {
      // greet(n): log("hello"); return now() + n
      type: { params: [I32], results: [I32] },
      body: [...op.i32Const(HELLO), ...op.i32Const(5), ...op.call(0), ...op.call(1), ...op.localGet(0), ...op.i32Add],
    },
    // __wbindgen_start: log("hello")
    { type: { params: [], results: [] }, body: [...op.i32Const(HELLO), ...op.i32Const(5), ...op.call(0)] },
  ],
  memory: { min: 1 },
  exports: [
    { name: "memory", kind: "memory", index: 0 },
    { name: "greet", kind: "func", index: 2 },
    { name: "__wbindgen_start", kind: "func", index: 3 },
  ],
  data: [{ offset: HELLO, bytes: new TextEncoder().encode("hello") }],
});

describe("a wasm-bindgen guest (bundler target's shape)", () => {
  it("its glue module as the import namespace and the hooked exports handed to the glue: each crossing on the calling fiber's task", async () => {
    const host = await createHost();
    const g = await host.instantiate(bytes, { [NS]: glue });
    expect(Object.keys(g.hooked).sort()).toEqual([`${NS}.__wbg_log_5f3c`, `${NS}.__wbg_now_a1b2`]);
    glue.__wbg_set_wasm(g.exports);
    g.exports.__wbindgen_start();
    expect(glue.logged).toEqual(["hello"]);
    const before = host.rootTask.counters();
    const t = host.spawn(function* () {
      return glue.greet(1); // the glue's wrapper, calling the hooked export
    });
    await host.run();
    expect(await t.result).toBe(43);
    expect(glue.logged).toEqual(["hello", "hello"]);
    const c = t.counters();
    // greet crossed once into the guest, which called its two imports: all on the fiber's task.
    expect([c.reverseEnterRuntime, c.leaveRuntime, c.enterRuntime, c.reverseLeaveRuntime]).toEqual([1, 2, 2, 1]);
    expect(host.rootTask.counters().leaveRuntime).toBe(before.leaveRuntime);
    expectBalanced(host);
  });
});
