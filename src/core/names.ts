// The host's names for the core's numbers (its counters, its transitions), the handle of a task
// the door passes it, and counters read into their public shape. Each number is the generated layout's (./generated/layout.ts).

import { CoreAnswer, Counter, Layout, SideField, SlotField, Transition } from "./generated/layout.js";

/** Not an HRESULT: a transition that must wait for the runtime to resume (assembly/hresult.ts). */
export const MUST_WAIT_FOR_RESUME = CoreAnswer.MUST_WAIT_FOR_RESUME;

/** The public name of each of the core's counters: a counter added in the core fails the type check here. */
const COUNTER_NAME = {
  [Counter.LEAVE]: "leaveRuntime",
  [Counter.ENTER]: "enterRuntime",
  [Counter.REVERSE_ENTER]: "reverseEnterRuntime",
  [Counter.REVERSE_LEAVE]: "reverseLeaveRuntime",
  [Counter.UNMATCHED_REVERSE_ENTER]: "unmatchedReverseEnter",
  [Counter.SWITCH_IN]: "switchIn",
  [Counter.SWITCH_OUT]: "switchOut",
} as const satisfies Record<Counter, string>;
export type CounterName = (typeof COUNTER_NAME)[Counter];
export type Counters = Record<CounterName, number>;
/** The contract's name of each transition. */
export const TRANSITION_NAMES = {
  [Transition.LEAVE]: "LeaveRuntime",
  [Transition.ENTER]: "EnterRuntime",
  [Transition.REVERSE_ENTER]: "ReverseEnterRuntime",
  [Transition.REVERSE_LEAVE]: "ReverseLeaveRuntime",
} as const satisfies Record<Transition, string>;

/** The counters' names in the core's order. */
export const COUNTER_NAMES: readonly CounterName[] = Array.from(
  { length: Layout.COUNTER_COUNT },
  (_, c) => COUNTER_NAME[c as Counter],
);

/**
 * @internal The keys of a task's handle in the core (TaskRef): symbols no module a user can import
 * exports, so that no write by name (`t.idx = 3`) points a task at another slot.
 */
export const IDX: unique symbol = Symbol("fiberhost task idx");
/** @internal See IDX. */
export const GEN: unique symbol = Symbol("fiberhost task gen");
/** @internal See IDX. */
export const BASE: unique symbol = Symbol("fiberhost task base");

/** A task as the core knows it: slot index, generation, and the slot's address in i32 units. */
export interface TaskRef {
  /** @internal */ [IDX]: number;
  /** @internal */ [GEN]: number;
  /** @internal */ [BASE]: number;
}

// One object literal of one shape (a store per name into an empty object would make it change
// shape seven times). Its names are COUNTER_NAMES; a counter added in the core fails the type here.
/** The totals at `at` (f64 units) of the core's memory: seven f64 values, in the core's order. */
export function totalsAt(f64: Float64Array, at: number): Counters {
  return {
    leaveRuntime: f64[at + Counter.LEAVE],
    enterRuntime: f64[at + Counter.ENTER],
    reverseEnterRuntime: f64[at + Counter.REVERSE_ENTER],
    reverseLeaveRuntime: f64[at + Counter.REVERSE_LEAVE],
    unmatchedReverseEnter: f64[at + Counter.UNMATCHED_REVERSE_ENTER],
    switchIn: f64[at + Counter.SWITCH_IN],
    switchOut: f64[at + Counter.SWITCH_OUT],
  };
}

/**
 * Counter `c` of the task whose slot is at `base` (i32 units): its u32 low word in the slot plus
 * its high word, when the task has a side record (a counter past 2^32 made one), times 2^32.
 */
export function counterAt(i32: Int32Array, base: number, c: Counter): number {
  const low = i32[base + SlotField.COUNTERS + c] >>> 0;
  const side = i32[base + SlotField.SIDE];
  return side === 0 ? low : low + (i32[(side >> 2) + SideField.HIGH + c] >>> 0) * 2 ** 32;
}

/** The seven counters of the task whose slot is at `base` (i32 units). */
export function countersAt(i32: Int32Array, base: number): Counters {
  return {
    leaveRuntime: counterAt(i32, base, Counter.LEAVE),
    enterRuntime: counterAt(i32, base, Counter.ENTER),
    reverseEnterRuntime: counterAt(i32, base, Counter.REVERSE_ENTER),
    reverseLeaveRuntime: counterAt(i32, base, Counter.REVERSE_LEAVE),
    unmatchedReverseEnter: counterAt(i32, base, Counter.UNMATCHED_REVERSE_ENTER),
    switchIn: counterAt(i32, base, Counter.SWITCH_IN),
    switchOut: counterAt(i32, base, Counter.SWITCH_OUT),
  };
}

/** Counters packed by the door's packCounters (a value >= 0: 4 bits each, the core's order). */
export function unpackCounters(packed: number): Counters {
  return {
    leaveRuntime: (packed >>> (4 * Counter.LEAVE)) & 15,
    enterRuntime: (packed >>> (4 * Counter.ENTER)) & 15,
    reverseEnterRuntime: (packed >>> (4 * Counter.REVERSE_ENTER)) & 15,
    reverseLeaveRuntime: (packed >>> (4 * Counter.REVERSE_LEAVE)) & 15,
    unmatchedReverseEnter: (packed >>> (4 * Counter.UNMATCHED_REVERSE_ENTER)) & 15,
    switchIn: (packed >>> (4 * Counter.SWITCH_IN)) & 15,
    switchOut: (packed >>> (4 * Counter.SWITCH_OUT)) & 15,
  };
}
