// The floor for the transitions: the same bookkeeping as the core's, written in plain JavaScript
// (what TypeScript compiles to) over typed arrays, with no wasm anywhere. A task's frame stack is
// an Int32Array of (kind, target) pairs, its depth and reservation are Int32Array entries, its
// counters Float64Array entries, and each transition makes the contract's checks: the runtime is
// started and not suspended, the target is a DWORD, the top frame's kind allows it, the
// reservation has room. It answers "what would a transition cost without wasm".

const S_OK = 0x00000000;
const E_INVALIDARG = 0x80070057;
const HOST_E_INVALIDOPERATION = 0x80131022;
const HOST_E_CLRNOTAVAILABLE = 0x80131023;
const HOST_E_TIMEOUT = 0x80131024;
const COR_E_STACKOVERFLOW = 0x800703e9;

const FRAME_NONE = 0;
const FRAME_LEAVE = 1;
const FRAME_REVERSE = 2;

// Counter order, as in the core: leave, enter, reverseEnter, reverseLeave, unmatchedReverseEnter,
// switchIn, switchOut.
const COUNTERS = 7;
const C_LEAVE = 0;
const C_ENTER = 1;
const C_REVERSE_ENTER = 2;
const C_REVERSE_LEAVE = 3;

const CTL_NOT_STARTED = 1;
const CTL_SUSPENDED = 2;

export class ReferenceTasks {
  /**
   * @param {number} maxTasks task slots
   * @param {number} framesPerTask each task's reservation, in frames
   */
  constructor(maxTasks, framesPerTask) {
    this.framesPerTask = framesPerTask;
    this.frames = new Int32Array(maxTasks * framesPerTask * 2);
    this.depth = new Int32Array(maxTasks);
    this.limit = new Int32Array(maxTasks).fill(framesPerTask);
    this.counters = new Float64Array(maxTasks * COUNTERS);
    /** The current task's slot. */
    this.cur = 0;
    this.ctl = CTL_NOT_STARTED;
  }

  startRuntime() {
    this.ctl &= ~CTL_NOT_STARTED;
    return S_OK;
  }

  /** The kind of the current task's top frame (FRAME_NONE with no frames). */
  topKind(t, d) {
    return d === 0 ? FRAME_NONE : this.frames[(t * this.framesPerTask + d - 1) * 2];
  }

  push(t, d, kind, target, counter) {
    if (d >= this.limit[t]) return COR_E_STACKOVERFLOW;
    const at = (t * this.framesPerTask + d) * 2;
    this.frames[at] = kind;
    this.frames[at + 1] = target;
    this.depth[t] = d + 1;
    this.counters[t * COUNTERS + counter]++;
    return S_OK;
  }

  pop(t, d, counter) {
    this.depth[t] = d - 1;
    this.counters[t * COUNTERS + counter]++;
    return S_OK;
  }

  /** Only managed code can leave the runtime. */
  leaveRuntime(target) {
    if (target >>> 0 !== target) return E_INVALIDARG;
    if ((this.ctl & CTL_NOT_STARTED) !== 0) return HOST_E_CLRNOTAVAILABLE;
    const t = this.cur;
    const d = this.depth[t];
    if (this.topKind(t, d) !== FRAME_REVERSE) return HOST_E_INVALIDOPERATION;
    return this.push(t, d, FRAME_LEAVE, target, C_LEAVE);
  }

  /** Returns from an outstanding LeaveRuntime; waits (here: times out) while the runtime is suspended. */
  enterRuntime() {
    if ((this.ctl & CTL_NOT_STARTED) !== 0) return HOST_E_CLRNOTAVAILABLE;
    const t = this.cur;
    const d = this.depth[t];
    if (this.topKind(t, d) !== FRAME_LEAVE) return HOST_E_INVALIDOPERATION;
    if ((this.ctl & CTL_SUSPENDED) !== 0) return HOST_E_TIMEOUT;
    return this.pop(t, d, C_ENTER);
  }

  /** Legal on any top frame, also with no frames (a task born in unmanaged code). */
  reverseEnterRuntime() {
    if ((this.ctl & CTL_NOT_STARTED) !== 0) return HOST_E_CLRNOTAVAILABLE;
    if ((this.ctl & CTL_SUSPENDED) !== 0) return HOST_E_TIMEOUT;
    const t = this.cur;
    return this.push(t, this.depth[t], FRAME_REVERSE, 0, C_REVERSE_ENTER);
  }

  /** Returns from an outstanding ReverseEnterRuntime. */
  reverseLeaveRuntime() {
    if ((this.ctl & CTL_NOT_STARTED) !== 0) return HOST_E_CLRNOTAVAILABLE;
    const t = this.cur;
    const d = this.depth[t];
    if (this.topKind(t, d) !== FRAME_REVERSE) return HOST_E_INVALIDOPERATION;
    return this.pop(t, d, C_REVERSE_LEAVE);
  }

  /** The scheduler switches another task in: the transitions now act on its frames. */
  switchTo(t) {
    this.cur = t;
  }

  /** A task's counters (a view: index it with REFERENCE_COUNTERS). */
  countersOf(t = this.cur) {
    return this.counters.subarray(t * COUNTERS, (t + 1) * COUNTERS);
  }
}

export const REFERENCE_COUNTERS = {
  leaveRuntime: C_LEAVE,
  enterRuntime: C_ENTER,
  reverseEnterRuntime: C_REVERSE_ENTER,
  reverseLeaveRuntime: C_REVERSE_LEAVE,
};
