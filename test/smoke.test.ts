import { describe, it, expect } from "vitest";
import { createHost, S_OK } from "../src/index.js";

describe("smoke", () => {
  it("loads the core and runs a fiber", async () => {
    const host = await createHost({ clock: "virtual" });
    const t = host.spawn(function* (f) {
      yield* f.yield();
      return 7;
    });
    host.runUntilIdle();
    expect(await t.result).toBe(7);
    expect(host.taskManager.reverseEnterRuntime()).toBe(S_OK);
  });
});
