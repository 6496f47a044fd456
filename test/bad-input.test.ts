// Bad input, for every public call: what it answers (or, for the throwing APIs, what it throws).
// This table is the README's "Bad input" table, row for row. After every row the core's
// invariants hold and a bystander fiber, parked in managed mode, is exactly as it was.
import { beforeEach, describe, expect, it } from "vitest";
import {
  createHost,
  HResultError,
  hresultName,
  type FiberContext,
  type Host,
  type Task,
  type Op,
  E_INVALIDARG,
  E_POINTER,
  E_NOTIMPL,
  HOST_E_INVALIDOPERATION,
  HOST_E_NOT_OWNER,
  HOST_E_DEADLOCK,
  HOST_E_CLRNOTAVAILABLE,
  S_OK,
} from "../src/index.js";
import { I32, op, wasmModule } from "./support/wasm-writer.js";

interface World {
  host: Host;
  other: Host;
  created: Task; // created, never started
  stale: Task; // ended; its slot reused
  foreign: Task; // a task of another host
  bystander: Task; // a fiber parked in managed mode on an event
}

async function world(): Promise<World> {
  const host = await createHost({ clock: "virtual" });
  const other = await createHost({ clock: "virtual" });
  const gate = host.createManualEvent(false);
  const bystander = host.spawn(
    function* (f) {
      yield* f.reverseEnterRuntime();
      yield* f.leaveRuntime(7);
      yield* f.reverseEnterRuntime();
      yield* gate.wait();
    },
    { name: "bystander" },
  );
  const stale = host.spawn(function* () {});
  host.runUntilIdle();
  const out: { value?: Task } = {};
  host.taskManager.createTask(0, function* () {}, undefined, out); // reuses the stale task's slot
  const created = out.value!;
  other.taskManager.createTask(0, function* () {}, undefined, out);
  return { host, other, created, stale, foreign: out.value!, bystander };
}

/** Runs `op(f)` in a fresh fiber: what it answered, or what it threw. */
function inFiber<T>(host: Host, op: (f: FiberContext) => Op<T>): { value?: T; thrown?: unknown } {
  const seen: { value?: T; thrown?: unknown } = {};
  host.spawn(function* (f) {
    try {
      seen.value = yield* op(f);
    } catch (e) {
      seen.thrown = e;
    }
  });
  host.runUntilIdle();
  return seen;
}

/** A row: the call, and the HRESULT it answers (number) or throws ({ throws }). */
type Row = [string, (w: World) => unknown, number | { throws: number }];

const NOT_DWORDS: [string, unknown][] = [
  ["-1", -1],
  ["1.5", 1.5],
  ["NaN", NaN],
  ["2^32", 2 ** 32],
  ['"5"', "5"],
  ["5n", 5n],
  ["undefined", undefined],
];
const dwordRows = (name: string, call: (w: World, v: never) => unknown, answer: number): Row[] =>
  NOT_DWORDS.map(([label, v]) => [`${name} ${label}`, (w: World) => call(w, v as never), answer] as Row);

const taskCalls: [string, (t: Task) => unknown][] = [
  ["start()", (t) => t.start()],
  ["alert()", (t) => t.alert()],
  ["setPriority(0)", (t) => t.setPriority(0)],
  ["getPriority(out)", (t) => t.getPriority({})],
  ["switchIn()", (t) => t.switchIn()],
  ["switchOut()", (t) => t.switchOut()],
  ["exitTask()", (t) => t.exitTask()],
  ["reset()", (t) => t.reset()],
  ["abort()", (t) => t.abort()],
  ["rudeAbort()", (t) => t.rudeAbort()],
  ["needsPriorityScheduling(out)", (t) => t.needsPriorityScheduling({})],
  ["yieldTask()", (t) => t.yieldTask()],
  ["locksHeld(out)", (t) => t.locksHeld({})],
  ["setTaskIdentifier(1)", (t) => t.setTaskIdentifier(1)],
  ["beginPreventAsyncAbort()", (t) => t.beginPreventAsyncAbort()],
  ["endPreventAsyncAbort()", (t) => t.endPreventAsyncAbort()],
];

const ROWS: Record<string, Row[]> = {
  IHostTaskManager: [
    ["getCurrentTask(missing out)", (w) => w.host.taskManager.getCurrentTask(undefined as never), E_POINTER],
    [
      "createTask(missing out)",
      (w) => w.host.taskManager.createTask(0, function* () {}, 0, undefined as never),
      E_POINTER,
    ],
    ["createTask(start not a function)", (w) => w.host.taskManager.createTask(0, 42 as never, 0, {}), E_INVALIDARG],
    ["createTask(stackSize -8)", (w) => w.host.taskManager.createTask(-8, function* () {}, 0, {}), E_INVALIDARG],
    ["createTask(stackSize 8.5)", (w) => w.host.taskManager.createTask(8.5, function* () {}, 0, {}), E_INVALIDARG],
    ["createTask(stackSize NaN)", (w) => w.host.taskManager.createTask(NaN, function* () {}, 0, {}), E_INVALIDARG],
    [
      'createTask(stackSize "8")',
      (w) => w.host.taskManager.createTask("8" as never, function* () {}, 0, {}),
      E_INVALIDARG,
    ],
    [
      "createTask(stackSize above maxStackSize)",
      (w) => w.host.taskManager.createTask(2 ** 21, function* () {}, 0, {}),
      E_INVALIDARG,
    ],
    ...dwordRows("sleep(ms)", (w, v) => w.host.taskManager.sleep(v), E_INVALIDARG),
    ["sleep(10, option 8)", (w) => w.host.taskManager.sleep(10, 8), E_INVALIDARG],
    [
      "sleep(10) outside a fiber (valid, but it would block)",
      (w) => w.host.taskManager.sleep(10),
      HOST_E_INVALIDOPERATION,
    ],
    ["switchToTask(option 8)", (w) => w.host.taskManager.switchToTask(8), E_INVALIDARG],
    ...dwordRows("setLocale(lcid)", (w, v) => w.host.taskManager.setLocale(v), E_INVALIDARG),
    ...dwordRows("setUILocale(lcid)", (w, v) => w.host.taskManager.setUILocale(v), E_INVALIDARG),
    ...dwordRows("callNeedsHostHook(target)", (w, v) => w.host.taskManager.callNeedsHostHook(v, {}), E_INVALIDARG),
    [
      "callNeedsHostHook(1, missing out)",
      (w) => w.host.taskManager.callNeedsHostHook(1, undefined as never),
      E_POINTER,
    ],
    ...dwordRows("leaveRuntime(target)", (w, v) => w.host.taskManager.leaveRuntime(v), E_INVALIDARG),
    ["setStackGuarantee(n) (reserved)", (w) => w.host.taskManager.setStackGuarantee(4096), E_NOTIMPL],
    ["getStackGuarantee(missing out)", (w) => w.host.taskManager.getStackGuarantee(undefined as never), E_POINTER],
  ],
  "IHostTask / ICLRTask on a stale handle (ended, slot reused)": taskCalls.map(
    ([n, c]) => [n, (w) => c(w.stale), E_INVALIDARG] as Row,
  ),
  "IHostTask / ICLRTask: arguments": [
    ...dwordRows("join(ms)", (w, v) => w.created.join(v), E_INVALIDARG),
    ["join(0, option 8)", (w) => w.created.join(0, 8), E_INVALIDARG],
    ["join(10) outside a fiber on a live task (it would block)", (w) => w.created.join(10), HOST_E_INVALIDOPERATION],
    ["setPriority(3) (not a THREAD_PRIORITY value)", (w) => w.created.setPriority(3), E_INVALIDARG],
    ["setPriority(1.5)", (w) => w.created.setPriority(1.5), E_INVALIDARG],
    ['setPriority("1")', (w) => w.created.setPriority("1" as never), E_INVALIDARG],
    ["getPriority(missing out)", (w) => w.created.getPriority(undefined as never), E_POINTER],
    ["needsPriorityScheduling(missing out)", (w) => w.created.needsPriorityScheduling(undefined as never), E_POINTER],
    ["locksHeld(missing out)", (w) => w.created.locksHeld(undefined as never), E_POINTER],
    ["setTaskIdentifier(-1)", (w) => w.created.setTaskIdentifier(-1), E_INVALIDARG],
    ["setTaskIdentifier(1.5)", (w) => w.created.setTaskIdentifier(1.5), E_INVALIDARG],
    ["setTaskIdentifier(2n ** 64n)", (w) => w.created.setTaskIdentifier(2n ** 64n), E_INVALIDARG],
    ['setTaskIdentifier("1")', (w) => w.created.setTaskIdentifier("1" as never), E_INVALIDARG],
    ["rootTask.abort()", (w) => w.host.rootTask.abort(), HOST_E_INVALIDOPERATION],
    ["rootTask.exitTask()", (w) => w.host.rootTask.exitTask(), HOST_E_INVALIDOPERATION],
    ["rootTask.reset()", (w) => w.host.rootTask.reset(), HOST_E_INVALIDOPERATION],
    ["switchIn() of a started fiber (the scheduler drives it)", (w) => w.bystander.switchIn(), HOST_E_INVALIDOPERATION],
  ],
  "fiber operations (inside a fiber)": [
    ...dwordRows("f.leaveRuntime(target)", (w, v) => inFiber(w.host, (f) => f.leaveRuntime(v)).value, E_INVALIDARG),
    [
      "f.unmanaged(-1, body)",
      (w) => rethrow(inFiber(w.host, (f) => f.unmanaged(-1, () => 1))),
      { throws: E_INVALIDARG },
    ],
    [
      "f.unmanaged(1, not a function)",
      (w) => rethrow(inFiber(w.host, (f) => f.unmanaged(1, 5 as never))),
      { throws: E_INVALIDARG },
    ],
    [
      "f.managed(not a function)",
      (w) => rethrow(inFiber(w.host, (f) => f.managed(5 as never))),
      { throws: E_INVALIDARG },
    ],
    // A wait's timeout or option that is not a valid value is a programming error: the `f` method
    // throws where the operation is made. (ms undefined is the default, INFINITE.)
    ...NOT_DWORDS.filter(([label]) => label !== "undefined").map(
      ([label, v]): Row => [
        `f.sleep(ms) ${label}`,
        (w) => rethrow(inFiber(w.host, (f) => f.sleep(v as never))),
        { throws: E_INVALIDARG },
      ],
    ),
    ["f.sleep(10, option 8)", (w) => rethrow(inFiber(w.host, (f) => f.sleep(10, 8))), { throws: E_INVALIDARG }],
    [
      "f.sleep(0, option 8) (checked before Sleep(0)'s yield)",
      (w) => rethrow(inFiber(w.host, (f) => f.sleep(0, 8))),
      { throws: E_INVALIDARG },
    ],
    [
      "f.sleep(0, a Symbol)",
      (w) => rethrow(inFiber(w.host, (f) => f.sleep(0, Symbol() as never))),
      { throws: E_INVALIDARG },
    ],
    ["f.join(not a task)", (w) => inFiber(w.host, (f) => f.join({} as never)).value, E_INVALIDARG],
    ["f.join(a task of another host)", (w) => inFiber(w.host, (f) => f.join(w.foreign)).value, E_INVALIDARG],
    ["f.join(its own task)", (w) => inFiber(w.host, (f) => f.join(f.task)).value, HOST_E_DEADLOCK],
    ["f.join(task, -1)", (w) => rethrow(inFiber(w.host, (f) => f.join(w.created, -1))), { throws: E_INVALIDARG }],
    [
      "f.join(task, 10, option 8)",
      (w) => rethrow(inFiber(w.host, (f) => f.join(w.created, 10, 8))),
      { throws: E_INVALIDARG },
    ],
    ["f.wait(a Crst)", (w) => inFiber(w.host, (f) => f.wait(w.host.createCrst() as never)).value, E_INVALIDARG],
    [
      "f.wait(an event of another host)",
      (w) => inFiber(w.host, (f) => f.wait(w.other.createAutoEvent())).value,
      E_INVALIDARG,
    ],
    ["f.wait(not a sync object)", (w) => inFiber(w.host, (f) => f.wait({} as never)).value, E_INVALIDARG],
    [
      "f.wait(event, 1.5)",
      (w) => rethrow(inFiber(w.host, (f) => f.wait(w.host.createAutoEvent(), 1.5))),
      { throws: E_INVALIDARG },
    ],
    [
      "f.wait(event, 10, option 8)",
      (w) => rethrow(inFiber(w.host, (f) => f.wait(w.host.createAutoEvent(), 10, 8))),
      { throws: E_INVALIDARG },
    ],
    ["crst.enter(option 8)", (w) => inFiber(w.host, () => w.host.createCrst().enter(8)).value, E_INVALIDARG],
  ],
  "sync objects": [
    ["crst.tryEnter(option 8, out)", (w) => w.host.createCrst().tryEnter(8, {}), E_INVALIDARG],
    ["crst.tryEnter(0, missing out)", (w) => w.host.createCrst().tryEnter(0, undefined as never), E_POINTER],
    ["crst.leave() by a task that does not own it", (w) => w.host.createCrst().leave(), HOST_E_NOT_OWNER],
    ["semaphore.release(0)", (w) => w.host.createSemaphore(0, 4).release(0), E_INVALIDARG],
    ["semaphore.release(-1)", (w) => w.host.createSemaphore(0, 4).release(-1), E_INVALIDARG],
    ["semaphore.release(1.5)", (w) => w.host.createSemaphore(0, 4).release(1.5), E_INVALIDARG],
    ["semaphore.release(n) past the maximum", (w) => w.host.createSemaphore(3, 4).release(2), E_INVALIDARG],
    ["semaphore.release(1, out not an object)", (w) => w.host.createSemaphore(0, 4).release(1, 5 as never), E_POINTER],
    [
      "event.wait() outside a fiber (it would block)",
      (w) => opAnswer(w.host.createAutoEvent().wait()),
      HOST_E_INVALIDOPERATION,
    ],
    [
      "crst.enter() outside a fiber (it could block)",
      (w) => opAnswer(w.host.createCrst().enter()),
      HOST_E_INVALIDOPERATION,
    ],
    ["crst.lock(42)", (w) => w.host.createCrst().lock(42 as never), { throws: E_INVALIDARG }],
    [
      "crst.lock(an async function)",
      (w) => w.host.createCrst().lock((async () => 1) as never),
      { throws: E_INVALIDARG },
    ],
    ["crst.lock(body, option 8)", (w) => w.host.createCrst().lock(() => 1, 8), { throws: E_INVALIDARG }],
    ["semaphore.acquire(body, -1)", (w) => w.host.createSemaphore(1, 1).acquire(() => 1, -1), { throws: E_INVALIDARG }],
    [
      "semaphore.acquire(body, 1.5)",
      (w) => w.host.createSemaphore(1, 1).acquire(() => 1, 1.5),
      { throws: E_INVALIDARG },
    ],
    [
      'semaphore.acquire(body, "100")',
      (w) => w.host.createSemaphore(1, 1).acquire(() => 1, "100" as never),
      { throws: E_INVALIDARG },
    ],
    ["event.waitOrThrow(NaN)", (w) => w.host.createAutoEvent().waitOrThrow(NaN), { throws: E_INVALIDARG }],
    [
      "event.waitOrThrow(10, option 8)",
      (w) => w.host.createManualEvent(false).waitOrThrow(10, 8),
      { throws: E_INVALIDARG },
    ],
    [
      "crst.lock(body) made and run outside a fiber (it could block)",
      (w) =>
        w.host
          .createCrst()
          .lock(() => 1)
          .next(),
      { throws: HOST_E_INVALIDOPERATION },
    ],
    ["createSemaphore(-1, 4)", (w) => w.host.createSemaphore(-1, 4), { throws: E_INVALIDARG }],
    ["createSemaphore(5, 4) (initial above maximum)", (w) => w.host.createSemaphore(5, 4), { throws: E_INVALIDARG }],
    ["createSemaphore(0, 0)", (w) => w.host.createSemaphore(0, 0), { throws: E_INVALIDARG }],
    ["createSemaphore(0.5, 4)", (w) => w.host.createSemaphore(0.5, 4), { throws: E_INVALIDARG }],
    ['createManualEvent("yes")', (w) => w.host.createManualEvent("yes" as never), { throws: E_INVALIDARG }],
  ],
  "the host (throwing APIs)": [
    ["spawn(not a function)", (w) => w.host.spawn(5 as never), { throws: E_INVALIDARG }],
    ["spawn(body, { priority: 3 })", (w) => w.host.spawn(function* () {}, { priority: 3 }), { throws: E_INVALIDARG }],
    [
      "spawn(body, { stackSize: -1 })",
      (w) => w.host.spawn(function* () {}, { stackSize: -1 }),
      { throws: E_INVALIDARG },
    ],
    ["spawn(body, { name: 5 })", (w) => w.host.spawn(function* () {}, { name: 5 as never }), { throws: E_INVALIDARG }],
    [
      "spawn(body, { signal: {} })",
      (w) => w.host.spawn(function* () {}, { signal: {} as never }),
      { throws: E_INVALIDARG },
    ],
    ["spawn(body, null options)", (w) => w.host.spawn(function* () {}, null as never), { throws: E_INVALIDARG }],
    [
      'spawn(body, { nme: "x" }) (an unknown option)',
      (w) => w.host.spawn(function* () {}, { nme: "x" } as never),
      { throws: E_INVALIDARG },
    ],
    [
      'createCrst({ nam: "x" }) (an unknown option)',
      (w) => w.host.createCrst({ nam: "x" } as never),
      { throws: E_INVALIDARG },
    ],
    ["createCrst({ name: 5 })", (w) => w.host.createCrst({ name: 5 as never }), { throws: E_INVALIDARG }],
    ["createAutoEvent(5)", (w) => w.host.createAutoEvent(5 as never), { throws: E_INVALIDARG }],
    [
      'createManualEvent({ initialState: "yes" })',
      (w) => w.host.createManualEvent({ initialState: "yes" as never }),
      { throws: E_INVALIDARG },
    ],
    [
      "createSemaphore(0, 1, { name: 5 })",
      (w) => w.host.createSemaphore(0, 1, { name: 5 as never }),
      { throws: E_INVALIDARG },
    ],
  ],
  "issue 11: f.spawn, yield* task, f.waitAny": [
    [
      "f.spawn(not a function)",
      (w) =>
        rethrow(
          inFiber(w.host, (f) => {
            f.spawn(5 as never);
            return f.yield();
          }),
        ),
      { throws: E_INVALIDARG },
    ],
    [
      "f.spawn(async function)",
      (w) =>
        rethrow(
          inFiber(w.host, (f) => {
            f.spawn((async () => {}) as never);
            return f.yield();
          }),
        ),
      { throws: E_INVALIDARG },
    ],
    [
      'f.spawn(body, { nme: "x" })',
      (w) =>
        rethrow(
          inFiber(w.host, (f) => {
            f.spawn(function* () {}, { nme: "x" } as never);
            return f.yield();
          }),
        ),
      { throws: E_INVALIDARG },
    ],
    [
      "f.spawn on the context of a fiber that has ended",
      (w) => endedContext(w.host).spawn(function* () {}),
      { throws: HOST_E_INVALIDOPERATION },
    ],
    ["yield* task of another host", (w) => rethrow(inFiber(w.host, () => joinOp(w.foreign))), { throws: E_INVALIDARG }],
    ["yield* host.rootTask", (w) => rethrow(inFiber(w.host, () => joinOp(w.host.rootTask))), { throws: E_INVALIDARG }],
    ["f.waitAny(not an array)", (w) => anyAnswer(w, () => 5), E_INVALIDARG],
    ["f.waitAny([])", (w) => anyAnswer(w, () => []), E_INVALIDARG],
    [
      "f.waitAny(65 events)",
      (w) => anyAnswer(w, () => Array.from({ length: 65 }, () => w.host.createAutoEvent())),
      E_INVALIDARG,
    ],
    ["f.waitAny([a Crst])", (w) => anyAnswer(w, () => [w.host.createCrst()]), E_INVALIDARG],
    [
      "f.waitAny([event, the same event])",
      (w) =>
        anyAnswer(w, () => {
          const e = w.host.createAutoEvent();
          return [e, e];
        }),
      E_INVALIDARG,
    ],
    ["f.waitAny([another host's event])", (w) => anyAnswer(w, () => [w.other.createAutoEvent()]), E_INVALIDARG],
    ["f.waitAny([another host's task])", (w) => anyAnswer(w, () => [w.foreign]), E_INVALIDARG],
    ["f.waitAny([the root task])", (w) => anyAnswer(w, () => [w.host.rootTask]), E_INVALIDARG],
    ["f.waitAny([5])", (w) => anyAnswer(w, () => [5]), E_INVALIDARG],
    [
      "f.waitAny([event], -1)",
      (w) => rethrow(inFiber(w.host, (f) => f.waitAny([w.host.createAutoEvent()], -1))),
      { throws: E_INVALIDARG },
    ],
    [
      "f.waitAny([event], 0, option 8)",
      (w) => rethrow(inFiber(w.host, (f) => f.waitAny([w.host.createAutoEvent()], 0, 8))),
      { throws: E_INVALIDARG },
    ],
    [
      "spawn(body, { priority: Object.create(null) })",
      (w) => w.host.spawn(function* () {}, { priority: Object.create(null) }),
      { throws: E_INVALIDARG },
    ],
    [
      "spawn(body, { stackSize: an object whose toString throws })",
      (w) => w.host.spawn(function* () {}, { stackSize: { toString: throwing } as never }),
      { throws: E_INVALIDARG },
    ],
    [
      "spawn(body, options whose getter throws)",
      (w) => w.host.spawn(function* () {}, Object.defineProperty({}, "priority", { get: throwing })),
      { throws: E_INVALIDARG },
    ],
    [
      "createSemaphore(a revoked Proxy, 4)",
      (w) => w.host.createSemaphore(revokedProxy() as never, 4),
      { throws: E_INVALIDARG },
    ],
    ["createSemaphore(0, a Symbol)", (w) => w.host.createSemaphore(0, Symbol() as never), { throws: E_INVALIDARG }],
    [
      "f.unmanaged(Object.create(null), body)",
      (w) => rethrow(inFiber(w.host, (f) => f.unmanaged(Object.create(null), () => 1))),
      { throws: E_INVALIDARG },
    ],
    [
      "runUntilIdle() inside a fiber",
      (w) => rethrow(inFiber(w.host, () => callOp(() => w.host.runUntilIdle()))),
      { throws: HOST_E_INVALIDOPERATION },
    ],
    [
      "run() inside a fiber",
      (w) => rethrow(inFiber(w.host, () => callOp(() => void w.host.run()))),
      { throws: HOST_E_INVALIDOPERATION },
    ],
    ["trace.start(0)", (w) => w.host.trace.start(0), E_INVALIDARG],
    ["trace.start(2^25)", (w) => w.host.trace.start(2 ** 25), E_INVALIDARG],
    ["trace.start(2^32 + 5) (not wrapped to 5)", (w) => w.host.trace.start(2 ** 32 + 5), E_INVALIDARG],
    ["trace.start(5n)", (w) => w.host.trace.start(5n as never), E_INVALIDARG],
    ["trace.start(a Symbol)", (w) => w.host.trace.start(Symbol() as never), E_INVALIDARG],
    ["trace.start(a null-prototype object)", (w) => w.host.trace.start(Object.create(null)), E_INVALIDARG],
  ],
  "fiber bodies, other fibers' contexts, other hosts' objects": [
    [
      "spawn(an async generator function)",
      (w) => w.host.spawn(async function* () {} as never),
      { throws: E_INVALIDARG },
    ],
    ["spawn(an async function)", (w) => w.host.spawn((async () => {}) as never), { throws: E_INVALIDARG }],
    [
      "createTask(0, an async generator function)",
      (w) => w.host.taskManager.createTask(0, async function* () {} as never, 0, {}),
      E_INVALIDARG,
    ],
    [
      "f.managed(an async generator function)",
      (w) => rethrow(inFiber(w.host, (f) => f.managed(async function* () {} as never))),
      { throws: E_INVALIDARG },
    ],
    [
      "f.unmanaged(1, an async function)",
      (w) => rethrow(inFiber(w.host, (f) => f.unmanaged(1, (async () => 1) as never))),
      { throws: E_INVALIDARG },
    ],
    [
      "f.delayAbort(not a function)",
      (w) => rethrow(inFiber(w.host, (f) => f.delayAbort(5 as never))),
      { throws: E_INVALIDARG },
    ],
    [
      "f.delayAbort(an async function)",
      (w) => rethrow(inFiber(w.host, (f) => f.delayAbort((async () => 1) as never))),
      { throws: E_INVALIDARG },
    ],
    [
      "f.delayAbort(an async generator function)",
      (w) => rethrow(inFiber(w.host, (f) => f.delayAbort(async function* () {} as never))),
      { throws: E_INVALIDARG },
    ],
    [
      "f.delayAbort(a revoked Proxy)",
      (w) => rethrow(inFiber(w.host, (f) => f.delayAbort(revokedProxy() as never))),
      { throws: E_INVALIDARG },
    ],
    [
      "f.delayAbort({ __proto__: Function.prototype }) (a function only by its prototype)",
      (w) => rethrow(inFiber(w.host, (f) => f.delayAbort({ __proto__: Function.prototype } as never))),
      { throws: E_INVALIDARG },
    ],
    [
      "f.managed(a body that gives a promise)",
      (w) => rethrow(inFiber(w.host, (f) => f.managed(() => Promise.resolve(1) as never))),
      { throws: E_INVALIDARG },
    ],
    [
      "an operation of another fiber's context (its f)",
      (w) => {
        const another = contextOfAnother(w.host);
        return rethrow(inFiber(w.host, () => another.sleep(5)));
      },
      { throws: E_INVALIDARG },
    ],
    [
      "crst.enter() of another host's Crst, in a fiber",
      (w) => inFiber(w.host, () => w.other.createCrst().enter()).value,
      E_INVALIDARG,
    ],
    [
      "event.wait() of another host's event, in a fiber",
      (w) => inFiber(w.host, () => w.other.createAutoEvent().wait(0)).value,
      E_INVALIDARG,
    ],
    [
      "crst.tryEnter(0, out) of another host's Crst, in a fiber",
      (w) => inFiber(w.host, () => answerOp(() => w.other.createCrst().tryEnter(0, {}))).value,
      E_INVALIDARG,
    ],
    [
      "spawn(body, { signal: an object inheriting from AbortSignal })",
      (w) => w.host.spawn(function* () {}, { signal: Object.create(AbortSignal.prototype) }),
      { throws: E_INVALIDARG },
    ],
    [
      "crst.leave() of another host's Crst, in a fiber",
      (w) => inFiber(w.host, () => answerOp(() => w.other.createCrst().leave())).value,
      E_INVALIDARG,
    ],
  ],
  "issue 18: task.name, f.waitAny's array, a revoked Proxy as an object": [
    ["task.name = Symbol()", (w) => ((w.created.name as unknown) = Symbol("n")), { throws: E_INVALIDARG }],
    ["task.name = 5", (w) => ((w.created.name as unknown) = 5), { throws: E_INVALIDARG }],
    [
      "task.name = an object whose toString throws",
      (w) => ((w.created.name as unknown) = { toString: throwing }),
      { throws: E_INVALIDARG },
    ],
    ["task.name = a revoked Proxy", (w) => ((w.created.name as unknown) = revokedProxy()), { throws: E_INVALIDARG }],
    ["f.waitAny(a revoked Proxy)", (w) => anyAnswer(w, () => revokedProxy()), E_INVALIDARG],
    [
      "f.waitAny(an array whose element getter throws)",
      (w) => anyAnswer(w, () => Object.defineProperty([w.host.createAutoEvent(), 0], 1, { get: throwing })),
      E_INVALIDARG,
    ],
    [
      "f.waitAny(a Proxy of an array whose length trap throws)",
      (w) =>
        anyAnswer(
          w,
          () =>
            new Proxy([w.host.createAutoEvent()], { get: (t, k) => (k === "length" ? throwing() : Reflect.get(t, k)) }),
        ),
      E_INVALIDARG,
    ],
    ["f.waitAny([a revoked Proxy])", (w) => anyAnswer(w, () => [revokedProxy()]), E_INVALIDARG],
    [
      "f.waitAny([a hole])",
      (w) =>
        anyAnswer(w, () => {
          const objects = [w.host.createAutoEvent()];
          objects[2] = w.host.createAutoEvent(); // (index 1 is a hole)
          return objects;
        }),
      E_INVALIDARG,
    ],
    [
      "f.waitAny([its own task])",
      (w) => {
        const seen = inFiber(w.host, (f) => f.waitAny([f.task], 100));
        expect(seen.value!.index).toBe(-1);
        return seen.value!.hr;
      },
      HOST_E_DEADLOCK,
    ],
    ["f.join(a revoked Proxy)", (w) => inFiber(w.host, (f) => f.join(revokedProxy() as never)).value, E_INVALIDARG],
    ["f.wait(a revoked Proxy)", (w) => inFiber(w.host, (f) => f.wait(revokedProxy() as never)).value, E_INVALIDARG],
  ],
};

/** The context `f` of another fiber of `host`, which has ended. */
function contextOfAnother(host: Host): FiberContext {
  let ctx: FiberContext | undefined;
  host.spawn(function* (f) {
    ctx = f;
  });
  host.runUntilIdle();
  return ctx!;
}

/** An operation answering what `fn` answers, called inside the fiber. */
function answerOp(fn: () => number): Op<number> {
  return {
    [Symbol.iterator]() {
      return this;
    },
    next() {
      return { value: fn(), done: true };
    },
  } as unknown as Op<number>;
}

function throwing(): never {
  throw new Error("hostile");
}

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** The answer of an operation iterated outside any fiber. */
function opAnswer(op: Op<number>): number {
  const r = op.next();
  return r.done ? (r.value as number) : -1;
}

/** Calls `fn` inside the fiber, as an operation (so a throw lands in the fiber). */
function callOp(fn: () => void): Op<number> {
  return {
    [Symbol.iterator]() {
      return this;
    },
    next() {
      fn();
      return { value: S_OK, done: true };
    },
  } as unknown as Op<number>;
}

/** What f.waitAny(objects(), ms, option) answers in a fiber of w.host: its HRESULT (its index is then −1). */
function anyAnswer(w: World, objects: () => unknown, ms?: number, option?: number): number {
  const seen = inFiber(w.host, (f) => f.waitAny(objects() as never, ms, option));
  if ("thrown" in seen) throw seen.thrown;
  expect(seen.value!.index).toBe(-1);
  return seen.value!.hr;
}

/** `yield* task`'s operation, as inFiber runs it. */
function joinOp(t: Task): Op<unknown> {
  return t[Symbol.iterator]() as Op<unknown>;
}

/** The context of a fiber that has ended. */
function endedContext(host: Host): FiberContext {
  let kept!: FiberContext;
  host.spawn(function* (f) {
    kept = f;
  });
  host.runUntilIdle();
  return kept;
}

function rethrow(seen: { value?: unknown; thrown?: unknown }): unknown {
  if ("thrown" in seen) throw seen.thrown;
  return seen.value;
}

function snapshot(t: Task) {
  return { state: t.getState(), mode: t.mode, depth: t.depth, frames: t.frames(), counters: t.counters() };
}

const CREATE_HOST_ROWS: [string, unknown][] = [
  ["null options", null],
  ['clock: "sundial"', { clock: "sundial" }],
  ['core: "fast"', { core: "fast" }],
  ["budget: 0", { budget: 0 }],
  ["budget: 1.5", { budget: 1.5 }],
  ["maxStackSize: -1", { maxStackSize: -1 }],
  ["enterTimeoutMs: -1", { enterTimeoutMs: -1 }],
  ["maxMemoryBytes: 1000", { maxMemoryBytes: 1000 }],
  ["maxMemoryBytes: 128 KiB (below MIN_MEMORY_BYTES)", { maxMemoryBytes: 128 * 1024 }],
  ["initialMemoryBytes: 128 KiB (below MIN_MEMORY_BYTES)", { initialMemoryBytes: 128 * 1024 }],
  ["initialMemoryBytes: NaN", { initialMemoryBytes: Number.NaN }],
  ['initialMemoryBytes: "1MB"', { initialMemoryBytes: "1MB" }],
  ["initialMemoryBytes above maxMemoryBytes", { maxMemoryBytes: 4 * 1024 * 1024, initialMemoryBytes: 8 * 1024 * 1024 }],
  ["budget: Object.create(null)", { budget: Object.create(null) }],
  [
    "an options object whose getter throws",
    Object.defineProperty({}, "core", {
      get: () => {
        throw new Error("getter");
      },
    }),
  ],
  ["clock: a revoked Proxy", { clock: revokedProxy() }],
  ["callNeedsHostHook: 5", { callNeedsHostHook: 5 }],
  ["dispatch: 42", { dispatch: 42 }],
  ["budgt: 3 (an unknown option, listed with the known ones)", { budgt: 3 }],
  ["onError: 5", { onError: 5 }],
  ["onDeadlock: 5", { onDeadlock: 5 }],
];

/** A guest importing the function module.name (i32) -> i32 and exporting `call`, written by hand. */
function guestImporting(module: string, name: string): Uint8Array<ArrayBuffer> {
  return wasmModule({
    imports: [{ module, name, type: { params: [I32], results: [I32] } }],
    funcs: [{ type: { params: [I32], results: [I32] }, body: [...op.localGet(0), ...op.call(0)] }],
    exports: [{ name: "call", kind: "func", index: 1 }],
  });
}
const throwingGetter = (key: string, value: object = {}): object =>
  Object.defineProperty(value, key, {
    enumerable: true,
    get() {
      throw new Error("getter");
    },
  });

/** host.instantiate rows: [what, (source, imports, options), what the message names]. */
const INSTANTIATE_ROWS: [string, () => [Uint8Array, unknown, unknown], string][] = [
  [
    "a guest importing __proto__.toString, imports {}",
    () => [guestImporting("__proto__", "toString"), {}, {}],
    "imports.__proto__",
  ],
  [
    "a guest importing constructor.keys, imports {}",
    () => [guestImporting("constructor", "keys"), {}, {}],
    "imports.constructor",
  ],
  ["imports.env a throwing getter", () => [guestImporting("env", "f"), throwingGetter("env"), {}], "imports.env"],
  [
    "imports.env.f a throwing getter",
    () => [guestImporting("env", "f"), { env: throwingGetter("f") }, {}],
    "imports.env.f",
  ],
  ["imports a revoked Proxy", () => [guestImporting("env", "f"), revokedProxy(), {}], "imports.env"],
  ["imports.env a revoked Proxy", () => [guestImporting("env", "f"), { env: revokedProxy() }, {}], "imports.env.f"],
  ["imports.env a number", () => [guestImporting("env", "f"), { env: 5 }, {}], "imports.env"],
  [
    "options.suspending a throwing getter",
    () => [guestImporting("env", "f"), { env: { f: () => 0 } }, throwingGetter("suspending")],
    "options.suspending",
  ],
  [
    "options.asyncifyData a revoked Proxy",
    () => [guestImporting("env", "f"), { env: { f: () => 0 } }, { asyncifyData: revokedProxy() }],
    "options.asyncifyData.address",
  ],
  [
    "options.asyncifyData.size a throwing getter",
    () => [
      guestImporting("env", "f"),
      { env: { f: () => 0 } },
      { asyncifyData: throwingGetter("size", { address: 1024 }) },
    ],
    "options.asyncifyData.size",
  ],
  [
    "options.target that throws",
    () => [
      guestImporting("env", "f"),
      { env: { f: () => 0 } },
      {
        target: () => {
          throw new Error("target");
        },
      },
    ],
    "options.target",
  ],
];

describe("bad input", () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });

  for (const [surface, rows] of Object.entries(ROWS)) {
    describe(surface, () => {
      it.each(rows)("%s answers as the table says; nothing else changes", (_, call, expected) => {
        const before = snapshot(w.bystander);
        const hostBefore = { created: snapshot(w.created), root: snapshot(w.host.rootTask) };
        if (typeof expected === "number") {
          const hr = call(w);
          expect(hresultName(hr as number)).toBe(hresultName(expected));
        } else {
          let thrown: unknown;
          try {
            call(w);
          } catch (e) {
            thrown = e;
          }
          expect(thrown).toBeInstanceOf(HResultError);
          expect(hresultName((thrown as HResultError).hr)).toBe(hresultName(expected.throws));
          expect((thrown as Error).message.length).toBeGreaterThan(hresultName(expected.throws).length + 2);
        }
        expect(w.host.checkInvariants()).toBe(true);
        expect(snapshot(w.bystander)).toEqual(before);
        expect(snapshot(w.created).frames).toEqual(hostBefore.created.frames);
        expect(snapshot(w.host.rootTask).frames).toEqual(hostBefore.root.frames);
      });
    });
  }

  describe("createHost (throws)", () => {
    it.each(CREATE_HOST_ROWS)(
      "createHost(%s) throws HResultError(E_INVALIDARG) naming the option",
      async (_, options) => {
        await expect(createHost(options as never)).rejects.toSatisfy(
          (e: unknown) => e instanceof HResultError && e.hr === E_INVALIDARG && /createHost/.test(e.message),
        );
      },
    );
  });

  describe("host.instantiate (rejects)", () => {
    it.each(INSTANTIATE_ROWS)(
      "host.instantiate with %s rejects with HResultError(E_INVALIDARG) naming it; nothing else changes",
      async (_, given, path) => {
        const before = snapshot(w.bystander);
        const root = snapshot(w.host.rootTask);
        const [source, imports, options] = given();
        const protoToString = Object.prototype.toString;
        let thrown: unknown;
        try {
          await w.host.instantiate(source, imports as object, options as never);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(HResultError);
        expect(hresultName((thrown as HResultError).hr)).toBe(hresultName(E_INVALIDARG));
        expect((thrown as Error).message).toContain(path);
        expect(Object.prototype.toString).toBe(protoToString);
        expect(w.host.checkInvariants()).toBe(true);
        expect(snapshot(w.bystander)).toEqual(before);
        expect(snapshot(w.host.rootTask)).toEqual(root);
      },
    );
  });

  describe("after the runtime is disabled", () => {
    it("every row of the table answers HOST_E_CLRNOTAVAILABLE instead, except the throwing host APIs' argument checks", () => {
      w.host.disable("test");
      const answered = ROWS["IHostTaskManager"].map(([name, call]) => [name, hresultName(call(w) as number)]);
      for (const [name, hr] of answered)
        expect(`${name} → ${hr}`).toBe(`${name} → ${hresultName(HOST_E_CLRNOTAVAILABLE)}`);
      for (const [name, call] of ROWS["IHostTask / ICLRTask: arguments"]) {
        expect(`${name} → ${hresultName(call(w) as number)}`).toBe(`${name} → ${hresultName(HOST_E_CLRNOTAVAILABLE)}`);
      }
    });
  });
});

describe("a wait's bad timeout or option throws where the operation is made", () => {
  it('f.sleep(-1), f.sleep("100"), f.sleep(1.5): HResultError(E_INVALIDARG) at the call, naming ms and the value; nothing sleeps', async () => {
    const host = await createHost({ clock: "virtual" });
    const seen: string[] = [];
    const t = host.spawn(function* (f) {
      for (const ms of [-1, "100", 1.5] as never[]) {
        let made = false;
        try {
          const op = f.sleep(ms); // throws here: the operation is never made
          made = true;
          yield* op;
        } catch (e) {
          expect(made).toBe(false);
          expect(e).toBeInstanceOf(HResultError);
          expect((e as HResultError).hr).toBe(E_INVALIDARG);
          seen.push((e as Error).message);
        }
      }
      // INFINITE and 0 stay valid.
      expect(yield* f.sleep(0)).toBe(S_OK);
      return "done";
    });
    host.runUntilIdle();
    expect(await t.result).toBe("done");
    expect(host.now()).toBe(0);
    expect(seen).toHaveLength(3);
    expect(seen[0]).toMatch(/f\.sleep.*ms.*-1/);
    expect(seen[1]).toMatch(/f\.sleep.*ms.*"100"/);
    expect(seen[2]).toMatch(/f\.sleep.*ms.*1\.5/);
  });
});
