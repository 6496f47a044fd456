// The host's names for the core's numbers (its counters, its transitions) and the handle of a task
// the door passes it. Each number is the generated layout's (./generated/layout.ts).

import { CoreAnswer, Counter, Layout, Transition } from "./generated/layout.js";

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

/** A task as the core knows it: slot index, generation, and the slot's address in i32 units. */
export interface TaskRef {
  idx: number;
  gen: number;
  base: number;
}
