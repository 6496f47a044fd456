// `fiberhost trace FILE` tells the story the trace holds: refused transitions by HRESULT, aborts
// requested and delivered, and the events the ring dropped (Node only: the CLI reads files).
import { describe, expect, it } from "vitest";
import { createHost, S_OK } from "../src/index.js";
import { formatTraceSummary, summarizeTrace } from "../src/cli/trace-command.js";

describe("fiberhost trace: the summary of refusals, aborts and drops", () => {
  it("counts refused transitions by HRESULT, aborts requested and delivered, and the dropped events", async () => {
    const host = await createHost({ clock: "virtual" });
    expect(host.trace.start(1 << 12)).toBe(S_OK);
    const ev = host.createManualEvent(false);
    host.spawn(function* (f) {
      yield* f.enterRuntime(); // HOST_E_INVALIDOPERATION: no LeaveRuntime outstanding
      yield* f.leaveRuntime(1); // HOST_E_INVALIDOPERATION: unmanaged code cannot leave
    });
    const victims = [0, 1, 2].map(() =>
      host.spawn(function* () {
        yield* ev.wait();
      }),
    );
    host.runUntilIdle();
    for (const v of victims) v.abort();
    host.runUntilIdle();
    const whole = summarizeTrace(JSON.parse(JSON.stringify(host.trace.toChromeTrace())));
    expect(whole.refused).toEqual({ HOST_E_INVALIDOPERATION: 2 });
    expect(whole.aborts).toEqual({ requested: 3, delivered: 3 });
    expect(whole.dropped).toBe(0);
    const text = formatTraceSummary("t.json", whole);
    expect(text).toMatch(/^ {2}refused {6}HOST_E_INVALIDOPERATION 2$/m);
    expect(text).toMatch(/^ {2}aborts {7}3 requested, 3 delivered$/m);
    expect(text).not.toMatch(/dropped/);

    host.trace.start(8);
    for (let i = 0; i < 4; i++)
      host.spawn(function* (f) {
        yield* f.managed(() => i);
      });
    host.runUntilIdle();
    const cut = summarizeTrace(JSON.parse(JSON.stringify(host.trace.toChromeTrace())));
    expect(cut.dropped).toBe(host.trace.dropped);
    expect(cut.dropped).toBeGreaterThan(0);
    expect(formatTraceSummary("t.json", cut)).toMatch(
      new RegExp(`^ {2}dropped {6}${cut.dropped} earlier events \\(the ring overflowed`, "m"),
    );
  });
});
