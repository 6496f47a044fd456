// Helpers shared by the specification tests of the core's rules. Not a test file: it runs in
// both the node and the browser projects, so it imports nothing from node:.

import { expect } from "vitest";
import { fiberFailed } from "./failures.js";
import {
  createHost,
  hresultName,
  S_OK,
  type Counters,
  type Frame,
  type Host,
  type HostOptions,
  type Out,
  type Task,
} from "../../src/index.js";

/** Every rule runs against both builds of the core. */
export const CORES = ["release", "debug"] as const;
export type Core = (typeof CORES)[number];

/**
 * An HRESULT as a test compares it: name and hex, so a failure reads "E_INVALIDARG (0x80070057)".
 * Anything that is not an unsigned 32-bit integer (undefined, a signed failure code) is shown as
 * such and never equals a real code.
 */
export function H(v: unknown): string {
  if (typeof v !== "number" || v >>> 0 !== v || Object.is(v, -0)) return `not an unsigned HRESULT: ${String(v)}`;
  return `${hresultName(v)} (0x${v.toString(16).toUpperCase().padStart(8, "0")})`;
}

/** A host with a virtual clock, so no test waits for real time; a fiber failure nothing observed fails the test. */
export function newHost(core: Core, options: HostOptions = {}): Promise<Host> {
  return createHost({ core, clock: "virtual", onError: fiberFailed, ...options });
}

/** CreateTask from the root task: a created (suspended) task to drive by hand. */
export function createTask(host: Host, stackSize = 0): Task {
  const out: Out<Task> = {};
  const hr = host.taskManager.createTask(stackSize, function* () {}, undefined, out);
  expect(H(hr), `CreateTask(${stackSize})`).toBe(H(S_OK));
  expect(out.value).toBeDefined();
  return out.value!;
}

/** A created task, switched in: the task manager's transitions act on it until it is switched out. */
export function switchedIn(host: Host, stackSize = 0): Task {
  const t = createTask(host, stackSize);
  expect(H(t.switchIn()), "SwitchIn").toBe(H(S_OK));
  return t;
}

export interface Snapshot {
  depth: number;
  frames: Frame[];
  mode: "managed" | "unmanaged";
  counters: Counters;
  totals: Counters;
  current: Task | undefined;
  live: number;
}

/** What "nothing changes" compares: the task's frames, mode and counters, the host's totals. */
export function snapshot(host: Host, t: Task): Snapshot {
  const out: Out<Task> = {};
  host.taskManager.getCurrentTask(out);
  return {
    depth: t.depth,
    frames: t.frames(),
    mode: t.mode,
    counters: t.counters(),
    totals: host.counters(),
    current: out.value,
    live: host.liveTaskCount,
  };
}

/** `after - before`, counter by counter, leaving out the counters that did not move. */
export function moved(before: Counters, after: Counters): Partial<Counters> {
  const d: Record<string, number> = {};
  for (const k of Object.keys(after) as (keyof Counters)[]) {
    if (after[k] !== before[k]) d[k] = after[k] - before[k];
  }
  return d as Partial<Counters>;
}

export const LEAVE = (target: number): Frame => ({ kind: "leave", target });
export const REVERSE: Frame = { kind: "reverseEnter", target: 0 };
