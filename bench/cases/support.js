// What the cases share: the failure a wrong sink raises, and the frames a transitions case (and
// its plain-TS floor) opens around its loop and counts.

/** A benchmark that measured the wrong thing stops the run. */
export function fail(message) {
  throw new Error(`bench: ${message}`);
}

/** Opens `depth` frames ending managed: R, then (L, R) pairs, then R when the count is even. */
export function openFrames(t, depth) {
  let hr = 0;
  for (let i = 0; i < depth; i++) hr |= i % 2 === 1 && i < depth - 1 ? t.leaveRuntime(0x64) : t.reverseEnterRuntime();
  return hr;
}

/** Closes what openFrames(depth) opened, innermost first. */
export function closeFrames(t, depth) {
  let hr = 0;
  for (let i = depth - 1; i >= 0; i--) hr |= i % 2 === 1 && i < depth - 1 ? t.enterRuntime() : t.reverseLeaveRuntime();
  return hr;
}

export const COUNTER_KEYS = ["leaveRuntime", "enterRuntime", "reverseEnterRuntime", "reverseLeaveRuntime"];

/** Counts what openFrames + closeFrames(depth) move. */
export function addFrameCounts(expected, depth) {
  for (let i = 0; i < depth; i++) {
    if (i % 2 === 1 && i < depth - 1) {
      expected.leaveRuntime++;
      expected.enterRuntime++;
    } else {
      expected.reverseEnterRuntime++;
      expected.reverseLeaveRuntime++;
    }
  }
}
