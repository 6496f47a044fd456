// The generated door types (scripts/core-types.mjs, run by npm run build:core): the layout the host
// reads is the one the compiled core exports, the checked-in module is current, and a layout that
// no longer matches the compiled core stops the build instead of reaching the host.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { coreTypesModule } from "../scripts/core-types.mjs";
import { instantiateCore } from "../src/core/load.js";
import { CORE_FUNCTIONS } from "../src/core/generated/layout.js";

async function coreGlobals(): Promise<Record<string, number>> {
  const inst = await instantiateCore("release", 16, () => 0);
  const globals: Record<string, number> = {};
  for (const [name, v] of Object.entries(inst.exports)) {
    if (v instanceof WebAssembly.Global) globals[name] = v.value as number;
  }
  return globals;
}

describe("the generated core types", () => {
  it("src/core/generated/layout.ts is what the compiled core and assembly/ give now", async () => {
    const text = coreTypesModule("assembly", await coreGlobals());
    expect(readFileSync("src/core/generated/layout.ts", "utf8")).toBe(text);
  });

  it("every function CoreExports names is an exported function of the core", async () => {
    const inst = await instantiateCore("debug", 16, () => 0);
    for (const name of CORE_FUNCTIONS) expect(typeof inst.exports[name], name).toBe("function");
  });

  it("a layout constant whose value differs from the compiled core's stops the build, naming it", async () => {
    const globals = await coreGlobals();
    expect(() => coreTypesModule("assembly", { ...globals, T_DEPTH: globals.T_DEPTH + 1 })).toThrow(/T_DEPTH/);
  });

  it("a layout constant the compiled core does not export stops the build, naming it", async () => {
    const { EV_WAKE: _, ...globals } = await coreGlobals();
    expect(() => coreTypesModule("assembly", globals)).toThrow(/EV_WAKE is not exported/);
  });
});
