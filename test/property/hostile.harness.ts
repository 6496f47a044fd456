// Hostile fiber programs (issue 8: the run loop as a fault boundary). A program is a few hostile
// fibers, each a list of actions that throw, return or yield exotic values (revoked proxies,
// primitives, Symbols, objects whose getters throw, promises, async iterators, thenables that
// throw) at random points, give scopes bodies of the wrong kind, await hostile thenables, use other
// fibers' contexts and another host's objects (also from a fiber of that host driven from inside
// one of ours), call a hook that throws, and abort one another; they spawn children (f.spawn)
// that do all of this too, join them (`yield* child`, f.join, f.waitAny) or leave them to their
// parent, abort them, and wait on themselves, their children, their parent and one another with
// f.waitAny (issue 18); beside them, bystanders with known results. Run on ONE pair of hosts for every program (so whatever a program leaves behind
// meets the next one), with a dispatch that throws on a chosen call.
//
// After each program: run() settled (again after a rejected run), every fiber of both hosts ended,
// the core's invariants hold on both, every transition is paired, the bystanders returned what
// they always return, every refusal the fibers checked was E_INVALIDARG, every child ended too,
// each hostile fiber that failed (not aborted) and nobody watched reached onError exactly once
// (and no other did), and the core's memory is back at its baseline. Shared by hostile.test.ts (both projects) and hostile.node.test.ts (the
// JS heap, Node only).

import fc from "fast-check";
import {
  createHost,
  E_INVALIDARG,
  HOST_E_DEADLOCK,
  HOST_E_TIMEOUT,
  HOST_E_ABANDONED,
  INFINITE,
  S_OK,
  HResultError,
  TaskAbortError,
  hresultName,
  isTaskAbortError,
  type Crst,
  type FiberContext,
  type Host,
  type Task,
} from "../../src/index.js";

export type Exotic =
  | "revoked"
  | "protoThrows"
  | "primitive"
  | "null"
  | "undefined"
  | "symbol"
  | "getters"
  | "promise"
  | "asyncIterator"
  | "thenableThrows";
export type BadBody =
  | "asyncGenFn"
  | "asyncFn"
  | "givesAsyncIterator"
  | "givesPromise"
  | "nextNonObject"
  | "nextPromise"
  | "givesRevoked"
  | "resultGettersThrow"
  | "throwsRevoked";

export type Action =
  | { k: "yield" }
  | { k: "sleep"; ms: number }
  | { k: "throw"; v: Exotic }
  | { k: "return"; v: Exotic }
  | { k: "yieldBad"; v: Exotic; caught: boolean }
  | { k: "badBody"; body: BadBody; managed: boolean; caught: boolean }
  | { k: "await"; v: Exotic | "ownThenThrows"; caught: boolean }
  | { k: "scope"; managed: boolean; body: Action[] }
  | { k: "try"; body: Action[] }
  | { k: "lock"; body: Action[] }
  | { k: "foreignOp"; op: "yield" | "sleep" | "managed" | "await"; caught: boolean }
  | { k: "foreignObj"; call: "enter" | "tryEnter" | "leave" | "wait" }
  | { k: "nested"; useOurF: boolean }
  | { k: "hook"; caught: boolean }
  | { k: "abort"; v: number }
  | { k: "spawn"; body: Action[]; join: "none" | "yieldStar" | "join"; caught: boolean }
  | { k: "abortChild" }
  | { k: "waitAny"; on: "self" | "child" | "parent" | "hostile" | WaitAnyBad; v: number; ms: number };

/** Arrays f.waitAny must refuse with E_INVALIDARG (read once, by index). */
export type WaitAnyBad = "revokedArray" | "getterThrows" | "lengthThrows" | "tooLong";

export interface Program {
  hostile: Action[][];
  /** The dispatch throws on this call of the program's run (none: never). */
  failDispatchAt: number | null;
}

// --- generation -------------------------------------------------------------------------------------

const exotic = fc.constantFrom<Exotic>(
  "revoked",
  "protoThrows",
  "primitive",
  "null",
  "undefined",
  "symbol",
  "getters",
  "promise",
  "asyncIterator",
  "thenableThrows",
);
const badBody = fc.constantFrom<BadBody>(
  "asyncGenFn",
  "asyncFn",
  "givesAsyncIterator",
  "givesPromise",
  "nextNonObject",
  "nextPromise",
  "givesRevoked",
  "resultGettersThrow",
  "throwsRevoked",
);

function actions(depth: number): fc.Arbitrary<Action[]> {
  const leaves: fc.Arbitrary<Action>[] = [
    fc.constant<Action>({ k: "yield" }),
    fc.record({ k: fc.constant("sleep" as const), ms: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ k: fc.constant("throw" as const), v: exotic }),
    fc.record({ k: fc.constant("return" as const), v: exotic }),
    fc.record({ k: fc.constant("yieldBad" as const), v: exotic, caught: fc.boolean() }),
    fc.record({ k: fc.constant("badBody" as const), body: badBody, managed: fc.boolean(), caught: fc.boolean() }),
    fc.record({
      k: fc.constant("await" as const),
      v: fc.oneof(exotic, fc.constant("ownThenThrows" as const)),
      caught: fc.boolean(),
    }),
    fc.record({
      k: fc.constant("foreignOp" as const),
      op: fc.constantFrom("yield" as const, "sleep" as const, "managed" as const, "await" as const),
      caught: fc.boolean(),
    }),
    fc.record({
      k: fc.constant("foreignObj" as const),
      call: fc.constantFrom("enter" as const, "tryEnter" as const, "leave" as const, "wait" as const),
    }),
    fc.record({ k: fc.constant("nested" as const), useOurF: fc.boolean() }),
    fc.record({ k: fc.constant("hook" as const), caught: fc.boolean() }),
    fc.record({ k: fc.constant("abort" as const), v: fc.nat(3) }),
    fc.constant<Action>({ k: "abortChild" }),
    fc.record({
      k: fc.constant("waitAny" as const),
      on: fc.constantFrom(
        "self" as const,
        "child" as const,
        "parent" as const,
        "hostile" as const,
        "revokedArray" as const,
        "getterThrows" as const,
        "lengthThrows" as const,
        "tooLong" as const,
      ),
      v: fc.nat(3),
      ms: fc.constantFrom(1, 3, INFINITE),
    }),
  ];
  if (depth === 0) return fc.array(fc.oneof(...leaves), { maxLength: 5 });
  const inner = actions(depth - 1);
  return fc.array(
    fc.oneof(
      ...leaves,
      fc.record({ k: fc.constant("scope" as const), managed: fc.boolean(), body: inner }),
      fc.record({ k: fc.constant("try" as const), body: inner }),
      fc.record({ k: fc.constant("lock" as const), body: inner }),
      fc.record({
        k: fc.constant("spawn" as const),
        body: inner,
        join: fc.constantFrom("none" as const, "yieldStar" as const, "join" as const),
        caught: fc.boolean(),
      }),
    ),
    { maxLength: 5 },
  );
}

export const programs: fc.Arbitrary<Program> = fc.record({
  hostile: fc.array(actions(2), { minLength: 1, maxLength: 4 }),
  failDispatchAt: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
});

// --- the hostile values -------------------------------------------------------------------------------

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** A Proxy whose getPrototypeOf trap throws: `instanceof` on it throws. */
function protoThrows(): object {
  return new Proxy(
    {},
    {
      getPrototypeOf() {
        throw new Error("hostile getPrototypeOf");
      },
    },
  );
}

/** An abort, asked without letting a hostile value's trap escape (what the classifier must do too). */
function isAbort(e: unknown): boolean {
  try {
    return e instanceof TaskAbortError;
  } catch {
    return false;
  }
}

function thrower(): never {
  throw new Error("hostile getter");
}

function makeExotic(v: Exotic): unknown {
  switch (v) {
    case "revoked":
      return revoked();
    case "protoThrows":
      return protoThrows();
    case "primitive":
      return 42;
    case "null":
      return null;
    case "undefined":
      return undefined;
    case "symbol":
      return Symbol("hostile");
    case "getters":
      return Object.defineProperties(
        {},
        { then: { get: thrower }, done: { get: thrower }, value: { get: thrower }, message: { get: thrower } },
      );
    case "promise":
      return Promise.resolve("p");
    case "asyncIterator":
      return (async function* () {
        yield 1;
      })();
    case "thenableThrows":
      return {
        then() {
          throw new Error("hostile then");
        },
      };
  }
}

function makeBadBody(b: BadBody): () => unknown {
  switch (b) {
    case "asyncGenFn":
      return async function* () {} as never;
    case "asyncFn":
      return (async () => 1) as never;
    case "givesAsyncIterator":
      return () => makeExotic("asyncIterator");
    case "givesPromise":
      return () => Promise.resolve(1);
    case "nextNonObject":
      return () => ({ next: () => 7 });
    case "nextPromise":
      return () => ({ next: () => Promise.resolve({ done: true, value: 1 }) });
    case "givesRevoked":
      return () => revoked();
    case "resultGettersThrow":
      return () => ({ next: () => makeExotic("getters") });
    case "throwsRevoked":
      return function* () {
        throw revoked();
      };
  }
}

/** The bad bodies that must be refused with E_INVALIDARG (the others end with what they threw). */
const REFUSED: ReadonlySet<BadBody> = new Set<BadBody>([
  "asyncGenFn",
  "asyncFn",
  "givesAsyncIterator",
  "givesPromise",
  "nextNonObject",
  "nextPromise",
]);

/**
 * `e` is an HResultError with `hr`, or the abort another fiber sent, which may come at the same
 * safe point instead (asked without running any trap of a hostile value).
 */
function isHr(e: unknown, hr: number): boolean {
  try {
    return (e instanceof HResultError && e.hr === hr) || isTaskAbortError(e);
  } catch {
    return false;
  }
}

// --- the world: two hosts, kept for every program -------------------------------------------------------

const HOOK_THROWS = 0xbad;

export interface World {
  host: Host;
  host2: Host;
  /** The dispatch's calls in this program, and the one that throws. */
  dispatch: { calls: number; failAt: number | null; failed: number };
  crst: Crst;
  crst2: Crst;
  event2: ReturnType<Host["createAutoEvent"]>;
  /** What the core's memory is once warmed up. */
  baseline: number;
  /** The tasks onError was called with, in this program. */
  reported: Task[];
}

export const DISPATCH_ERROR = new Error("hostile dispatch");

export async function makeWorld(): Promise<World> {
  const dispatch = { calls: 0, failAt: null as number | null, failed: 0 };
  const reported: Task[] = [];
  const host = await createHost({
    clock: "virtual",
    core: "debug",
    budget: 64,
    dispatch: (fn) => {
      dispatch.calls++;
      if (dispatch.calls === dispatch.failAt) {
        dispatch.failed++;
        throw DISPATCH_ERROR;
      }
      void Promise.resolve().then(fn);
    },
    callNeedsHostHook: (target) => {
      if (target === HOOK_THROWS) throw new Error("hostile hook");
      return true;
    },
    // Hostile fibers fail on purpose: their reports are kept (and checked), not printed.
    onError: (_, t) => void reported.push(t),
    onDeadlock: () => {},
  });
  const host2 = await createHost({ clock: "virtual", core: "debug" });
  return {
    host,
    host2,
    dispatch,
    crst: host.createCrst(),
    crst2: host2.createCrst(),
    event2: host2.createAutoEvent(),
    baseline: 0,
    reported,
  };
}

/** Runs one program; answers what went wrong (empty: nothing). */
export async function runProgram(w: World, p: Program): Promise<string[]> {
  const { host, host2 } = w;
  const problems: string[] = [];
  const violation = (what: string) => problems.push(what);
  const contexts: FiberContext[] = [];
  const hostile: Task[] = [];
  /** Every f.spawn child of the program, and each fiber's children and parent. */
  const children: Task[] = [];
  const kidsOf = new Map<Task, Task[]>();
  const parentOf = new Map<Task, Task>();
  /** Fibers another fiber waited on (their failure is then observed, not reported). */
  const watched = new Set<Task>();
  w.reported.length = 0;
  // A context of a fiber that has ended: its operations are refused too.
  let ended: FiberContext | null = null;
  host.spawn(function* (f) {
    ended = f;
  });

  function* interpret(f: FiberContext, self: number, list: Action[]): Generator<unknown, unknown, unknown> {
    for (const a of list) {
      switch (a.k) {
        case "yield":
          yield* f.yield();
          break;
        case "sleep":
          yield* f.sleep(a.ms);
          break;
        case "throw":
          throw makeExotic(a.v);
        case "return":
          return makeExotic(a.v);
        case "yieldBad":
          try {
            yield makeExotic(a.v);
            violation("a value that is not an operation was not refused");
          } catch (e) {
            if (!isHr(e, E_INVALIDARG)) violation("a yielded value that is not an operation: not E_INVALIDARG");
            if (!a.caught) throw e;
          }
          break;
        case "badBody": {
          const body = makeBadBody(a.body);
          try {
            yield* a.managed ? f.managed(body) : f.managed(() => f.unmanaged(5, body));
            violation(`a bad body (${a.body}) ran to its end`);
          } catch (e) {
            if (REFUSED.has(a.body) && !isHr(e, E_INVALIDARG))
              violation(`a bad body (${a.body}) was not refused with E_INVALIDARG`);
            if (!a.caught) throw e;
          }
          break;
        }
        case "await": {
          let value: unknown;
          if (a.v === "ownThenThrows") {
            const p = Promise.resolve(1);
            (p as { then: unknown }).then = thrower;
            value = p;
          } else value = makeExotic(a.v);
          try {
            yield* f.await(value);
          } catch (e) {
            if (!a.caught) throw e;
          }
          break;
        }
        case "scope": {
          const r = yield* a.managed
            ? f.managed(() => interpret(f, self, a.body))
            : f.managed(() => f.unmanaged(1, () => interpret(f, self, a.body)));
          if (r !== undefined) return r;
          break;
        }
        case "try":
          try {
            const r = yield* interpret(f, self, a.body);
            if (r !== undefined) return r;
          } catch {
            // (whatever it was)
          }
          break;
        case "lock": {
          yield* w.crst.enter();
          try {
            const r = yield* interpret(f, self, a.body);
            if (r !== undefined) return r;
          } finally {
            w.crst.leave();
          }
          break;
        }
        case "foreignOp": {
          const other = contexts.find((c, j) => c !== undefined && j !== self) ?? ended!;
          const op =
            a.op === "yield"
              ? other.yield()
              : a.op === "sleep"
                ? other.sleep(3)
                : a.op === "managed"
                  ? other.managed(function* () {})
                  : other.await(Promise.resolve(1));
          try {
            yield* op;
            // (Another fiber's yield, with no safe point of its owner pending, yields this fiber.)
            if (a.op !== "yield") violation(`another fiber's ${a.op} ran`);
          } catch (e) {
            if (!isHr(e, E_INVALIDARG)) violation(`another fiber's ${a.op}: not E_INVALIDARG`);
            if (!a.caught) throw e;
          }
          break;
        }
        case "foreignObj": {
          const hr =
            a.call === "enter"
              ? yield* w.crst2.enter()
              : a.call === "tryEnter"
                ? w.crst2.tryEnter(0, {})
                : a.call === "leave"
                  ? w.crst2.leave()
                  : yield* w.event2.wait(3);
          if (hr !== E_INVALIDARG) violation(`another host's ${a.call} answered ${hresultName(hr)}`);
          break;
        }
        case "nested": {
          // A fiber of host 2, driven from inside this fiber, uses host 1's Crst (and maybe our f).
          const seen: number[] = [];
          const t2 = host2.spawn(function* (f2) {
            seen.push(yield* w.crst.enter(), w.crst.tryEnter(0, {}), w.crst.leave());
            if (a.useOurF) {
              try {
                yield* f.sleep(1);
                violation("host 2's fiber ran host 1's fiber's sleep");
              } catch (e) {
                if (!isHr(e, E_INVALIDARG)) violation("host 2's fiber using our f: not E_INVALIDARG");
              }
            }
            yield* f2.yield();
            return "t2";
          });
          host2.runUntilIdle();
          if (!t2.done) violation("host 2's fiber did not finish");
          if (seen.some((hr) => hr !== E_INVALIDARG))
            violation(`host 2's fiber on host 1's Crst: ${seen.map(hresultName)}`);
          break;
        }
        case "hook":
          try {
            yield* f.managed(() => f.unmanaged(HOOK_THROWS, function* () {}));
            violation("a throwing callNeedsHostHook let the call through");
          } catch (e) {
            if (!a.caught) throw e;
          }
          break;
        case "abort": {
          const t = hostile[a.v % hostile.length];
          if (t !== f.task) t.abort();
          break;
        }
        case "spawn": {
          const child = f.spawn(
            function* (g) {
              return yield* interpret(g, -1, a.body);
            },
            { name: `child-of-${f.task.name}` },
          );
          children.push(child);
          parentOf.set(child, f.task);
          let kids = kidsOf.get(f.task);
          if (kids === undefined) kidsOf.set(f.task, (kids = []));
          kids.push(child);
          if (a.join === "yieldStar") {
            try {
              yield* child;
            } catch (e) {
              if (!a.caught) throw e;
            }
          } else if (a.join === "join") {
            const hr = yield* f.join(child);
            if (hr !== S_OK && hr !== HOST_E_DEADLOCK) violation(`f.join of a child answered ${hresultName(hr)}`);
          }
          break;
        }
        case "abortChild": {
          const kids = kidsOf.get(f.task);
          if (kids !== undefined && kids.length > 0) kids[kids.length - 1].abort();
          break;
        }
        case "waitAny": {
          let objects: unknown;
          let expect: readonly number[] = [S_OK, HOST_E_TIMEOUT, HOST_E_DEADLOCK];
          switch (a.on) {
            case "self":
              objects = [f.task];
              expect = [HOST_E_DEADLOCK];
              break;
            case "child": {
              const kids = kidsOf.get(f.task);
              if (kids === undefined || kids.length === 0) continue;
              objects = [kids[a.v % kids.length]];
              break;
            }
            case "parent": {
              const parent = parentOf.get(f.task);
              if (parent === undefined) continue;
              watched.add(parent); // (a wait on a task marks it observed, even one that times out)
              objects = [parent];
              break;
            }
            case "hostile": {
              const t = hostile[a.v % hostile.length];
              if (t === f.task) continue;
              watched.add(t);
              objects = [t];
              break;
            }
            default:
              objects = badWaitAnyArray(a.on, w.host);
              expect = [E_INVALIDARG];
          }
          // (Waits on other hostile fibers have a time limit: they may wait on each other through
          // promises and sleeps too, which no deadlock detection sees.)
          const ms = a.on === "hostile" ? Math.min(a.ms, 5) : a.ms;
          const r = yield* f.waitAny(objects as Task[], ms);
          if (!expect.includes(r.hr) && r.hr !== HOST_E_ABANDONED)
            violation(`f.waitAny on ${a.on} answered ${hresultName(r.hr)}`);
          break;
        }
      }
    }
    return undefined;
  }

  for (let i = 0; i < p.hostile.length; i++) {
    const list = p.hostile[i];
    hostile.push(
      host.spawn(
        function* (f) {
          contexts[i] = f;
          return yield* interpret(f, i, list);
        },
        { name: `hostile-${i}` },
      ),
    );
  }

  // Bystanders with known results: they share nothing with the hostile fibers but the scheduler.
  const own = host.createCrst();
  const b1 = host.spawn(
    function* (f) {
      let n = 0;
      for (let i = 0; i < 3; i++) {
        yield* f.sleep(2);
        n += yield* f.managed(function* () {
          yield* f.yield();
          return 1;
        });
      }
      return n;
    },
    { name: "bystander-1" },
  );
  const b2 = host.spawn(
    function* (f) {
      yield* own.enter();
      yield* f.yield();
      own.leave();
      return (yield* f.await(Promise.resolve(6))) * 7;
    },
    { name: "bystander-2" },
  );
  const b3 = host2.spawn(
    function* (f) {
      yield* f.sleep(1);
      return "b3";
    },
    { name: "bystander-3" },
  );

  w.dispatch.calls = 0;
  w.dispatch.failAt = p.failDispatchAt;
  for (let attempt = 0; ; attempt++) {
    const outcome = await settleWithin(host.run(), 5000);
    if (outcome === "timeout") {
      violation("run() did not settle");
      break;
    }
    if (outcome === "ok") break;
    if (outcome !== DISPATCH_ERROR) violation(`run() rejected with ${String(outcome)}`);
    if (attempt > 0) {
      violation("run() rejected twice");
      break;
    }
  }
  host2.runUntilIdle();
  // Failures nothing observed are reported a macrotask after the run settled
  // (src/scheduler/failure-reports.ts): before the results below are read, which observes them.
  await new Promise((resolve) => setTimeout(resolve, 0));

  for (const t of [...hostile, ...children, b1, b2, b3])
    if (!t.done) violation(`${t.name} did not end (${t.getState()})`);
  // A hostile fiber that failed (not an abort) with nobody watching reached onError, once; no other did.
  // (Whether it threw is read from the task: a fiber that returned a revoked Proxy has a result
  // promise that rejects, since resolving a promise with it reads its `then`.)
  const failed = await Promise.all(
    hostile.map((t) =>
      t.result.then(
        () => false,
        (e: unknown) => String(t).endsWith(" threw") && !isAbort(e),
      ),
    ),
  );
  for (let i = 0; i < hostile.length; i++) {
    const times = w.reported.filter((t) => t === hostile[i]).length;
    if (times > 1) violation(`${hostile[i].name} was reported ${times} times`);
    else if (failed[i] && !watched.has(hostile[i]) && times === 0)
      violation(`${hostile[i].name} failed and did not reach onError`);
    else if (!failed[i] && times > 0) violation(`${hostile[i].name} did not fail but reached onError`);
  }
  if ((await settled(b1.result)).value !== 3) violation("bystander-1 did not return 3");
  if ((await settled(b2.result)).value !== 42) violation("bystander-2 did not return 42");
  if ((await settled(b3.result)).value !== "b3") violation("bystander-3 did not return b3");
  for (const t of hostile) await settled(t.result);
  for (const h of [host, host2]) {
    if (!h.checkInvariants()) violation("the core's invariants do not hold");
    if (h.liveTaskCount !== 1) violation(`${h.liveTaskCount - 1} fibers still live`);
    const c = h.counters();
    if (
      c.leaveRuntime !== c.enterRuntime ||
      c.reverseEnterRuntime !== c.reverseLeaveRuntime ||
      c.unmatchedReverseEnter !== 0
    ) {
      violation(`transitions not paired: ${JSON.stringify(c)}`);
    }
  }
  if (w.crst.getOwner() !== null) violation("the hostile Crst is still owned");
  if (w.baseline !== 0 && host.coreMemoryBytes !== w.baseline)
    violation(`core memory ${host.coreMemoryBytes} ≠ baseline ${w.baseline}`);
  return problems;
}

/** An array f.waitAny must refuse (E_INVALIDARG) without letting what it throws escape. */
function badWaitAnyArray(kind: WaitAnyBad, host: Host): unknown {
  const ev = host.createAutoEvent();
  switch (kind) {
    case "revokedArray":
      return revoked();
    case "getterThrows":
      return Object.defineProperty([ev, 0], 1, { get: thrower });
    case "lengthThrows":
      return new Proxy([ev], { get: (t, k) => (k === "length" ? thrower() : Reflect.get(t, k)) });
    case "tooLong": {
      // Length 1, but an iterator (which must not be used) that answers 99 objects.
      const a = [5];
      Object.defineProperty(a, Symbol.iterator, {
        value: function* () {
          for (let i = 0; i < 99; i++) yield host.createAutoEvent();
        },
      });
      return a;
    }
  }
}

/** "ok", the rejection, or "timeout". */
function settleWithin(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise((r) => (timer = setTimeout(() => r("timeout"), ms)));
  return Promise.race([
    p.then(
      () => "ok",
      (e: unknown) => e,
    ),
    timeout,
  ]).finally(() => clearTimeout(timer));
}

/** The value when it returned (boxed: a hostile value is never adopted as a thenable). */
function settled(p: Promise<unknown>): Promise<{ value?: unknown }> {
  return p.then(
    (value) => ({ value }),
    () => ({}),
  );
}
