// keepAlive (src/threads/keep-alive.ts): a pending Atomics.waitAsync holds nothing on Node's event
// loop (nodejs/node#61941), so a process whose only work is such a wait exits under it. A child
// process (test/fixtures/workers/keep-alive-child.js) waits on a word an unref'd worker notifies after
// 200 ms: with keepAlive held it stays and sees the notify (exit 0); without, it leaves first (exit 3),
// which shows the hold is what keeps it. Node only: a browser keeps a page alive anyway.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { distUrl, fixtureUrl, keepAliveModule, workerStart } from "./support/workers.js";

function child(mode: "hold" | "none"): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [fileURLToPath(fixtureUrl("keep-alive-child.js")), distUrl(), mode],
      { timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? -1) : 0, stdout, stderr }),
    );
  });
}

describe("keepAlive: a Node thread waiting with Atomics.waitAsync stays alive while held", () => {
  it("held: the child process sees the notify 200 ms later and exits 0", async () => {
    await workerStart(); // dist/ up to date
    const run = await child("hold");
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("waitAsync: ok, word 1");
    expect(run.code).toBe(0);
  });

  it("not held: the child process leaves before the notify (exit 3), the bug the hold works around", async () => {
    await workerStart();
    const run = await child("none");
    expect(run.stdout).not.toContain("waitAsync");
    expect(run.code).toBe(3);
  });

  it("counts holds: the last release lets go; a release without a hold is an HResultError", async () => {
    const { createKeepAlive } = await keepAliveModule();
    const k = createKeepAlive();
    k.hold();
    k.hold();
    k.release();
    expect(k.holds).toBe(1);
    k.release();
    expect(k.holds).toBe(0);
    expect(() => k.release()).toThrow(/HOST_E_INVALIDOPERATION.*release\(\) without a hold/);
  });
});
