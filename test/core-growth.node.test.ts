// Node only: what a host's memory reservation costs the process (V8's external memory, its
// garbage collections, RSS). The reservation is createHost({ initialMemoryBytes }), 1 MiB by
// default: V8 counts all of it as external memory and starts a full collection for every 64 MB
// of that, so a 64 MiB default made nearly every createHost a full GC (src/core/load.ts).

import { afterEach, describe, expect, it } from "vitest";
import { PerformanceObserver, constants } from "node:perf_hooks";
import { createHost, type Host } from "../src/index.js";
import { gc } from "./support/gc.node.js";

const MiB = 1024 * 1024;

function external(): number {
  gc();
  gc();
  return process.memoryUsage().external;
}

describe("the core memory's reservation, as the process sees it", () => {
  let hosts: Host[] = [];
  afterEach(() => {
    hosts = [];
  });

  it("a live host adds its reservation to V8's external memory: 1 MiB by default, what it asks for otherwise", async () => {
    await createHost(); // the core compiled, the modules loaded
    const n = 32;
    let before = external();
    for (let i = 0; i < n; i++) hosts.push(await createHost());
    const byDefault = (external() - before) / n;
    // (Other external memory comes and goes: a loose bound, far from the 64 MiB it was.)
    expect(byDefault).toBeGreaterThan(0.75 * MiB);
    expect(byDefault).toBeLessThan(1.5 * MiB);
    before = external();
    for (let i = 0; i < n; i++) hosts.push(await createHost({ initialMemoryBytes: 8 * MiB }));
    const asked = (external() - before) / n;
    expect(asked).toBeGreaterThan(7.5 * MiB);
    expect(asked).toBeLessThan(8.5 * MiB);
  });

  it("300 hosts made one after another start few full garbage collections (64 MiB each started one a host)", async () => {
    await createHost();
    gc();
    let full = 0;
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
      }
    });
    observer.observe({ entryTypes: ["gc"] });
    try {
      for (let i = 0; i < 300; i++) await createHost();
      await new Promise((resolve) => setTimeout(resolve, 20)); // gc entries are delivered later
    } finally {
      observer.disconnect();
    }
    expect(full).toBeLessThan(30);
  });

  it("a reservation costs no RSS until the core uses it: 32 live hosts of 64 MiB each", async () => {
    await createHost({ initialMemoryBytes: 64 * MiB });
    gc();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 32; i++) hosts.push(await createHost({ initialMemoryBytes: 64 * MiB }));
    expect(hosts.every((h) => h.door.bufferBytes() === 64 * MiB)).toBe(true);
    expect(process.memoryUsage().rss - before).toBeLessThan(128 * MiB); // reserved: 2 GiB
  });
});
