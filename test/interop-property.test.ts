// Generated programs of fibers that call into one guest instance (asyncify in both projects, JSPI
// where the engine has it): calls that suspend or not, whose suspending import answers plain
// values, promises settled at once or a turn later, or rejections, interleaved with yields and
// aborts of other fibers (also while they are parked inside the guest). After the run every fiber
// has ended; each one that was not aborted saw exactly the answers a synchronous guest would give;
// every fiber's transitions pair up, aborted ones included; the core's invariants hold; and the
// instance still answers.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createHost, isTaskAbortError, type Task } from "../src/index.js";
import { checkProperty, runs, timeLimit } from "./property/support.js";
import { hasJspi, loadGuest } from "./support/guest.js";

type Answer = "plain" | "resolved" | "later" | "reject";
type Step =
  | { k: "compute" | "fetchOnce"; x: number }
  | { k: "nested"; n: number }
  | { k: "add"; a: number }
  | { k: "yield" }
  | { k: "abort"; v: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ k: fc.constant("compute" as const), x: fc.nat(40) }),
  fc.record({ k: fc.constant("fetchOnce" as const), x: fc.nat(40) }),
  fc.record({ k: fc.constant("nested" as const), n: fc.nat(3) }),
  fc.record({ k: fc.constant("add" as const), a: fc.nat(100) }),
  fc.constant<Step>({ k: "yield" }),
  fc.record({ k: fc.constant("abort" as const), v: fc.nat(5) }),
);
const program = fc.record({
  answers: fc.array(fc.constantFrom<Answer>("plain", "resolved", "later", "reject"), { minLength: 1, maxLength: 7 }),
  fibers: fc.array(fc.array(step, { maxLength: 6 }), { minLength: 1, maxLength: 6 }),
});

/** What one call gives when nothing is aborted: its value, or the message it throws. */
type Outcome = { ok: number } | { err: string };

function expected(s: Step, answer: (x: number) => Answer): Outcome | null {
  const fetch = (x: number): Outcome => (answer(x) === "reject" ? { err: `rejected ${x}` } : { ok: x % 10 });
  switch (s.k) {
    case "fetchOnce":
      return fetch(s.x);
    case "compute": {
      let acc = 0;
      for (let i = 0; i < 3; i++) {
        const r = fetch(s.x + i);
        if ("err" in r) return r;
        acc = acc * 10 + r.ok;
      }
      return { ok: acc };
    }
    case "nested":
      return { ok: s.n };
    case "add":
      return { ok: s.a + 1 };
    default:
      return null;
  }
}

function property(path: "asyncify" | "jspi"): void {
  it(`on the ${path} path`, { timeout: timeLimit() }, async () => {
    await checkProperty(
      fc.asyncProperty(program, async ({ answers, fibers }) => {
        const host = await createHost({ clock: "virtual", core: "debug" });
        const { guest, setFetch } = await loadGuest(host, path === "asyncify" ? "asyncify" : "plain", {
          suspension: path,
        });
        const answer = (x: number): Answer => answers[x % answers.length];
        setFetch((x) => {
          switch (answer(x)) {
            case "plain":
              return x % 10;
            case "resolved":
              return Promise.resolve(x % 10);
            case "later":
              return new Promise((r) => setTimeout(() => r(x % 10), 0));
            default:
              return Promise.reject(new Error(`rejected ${x}`));
          }
        });
        const tasks: Task[] = [];
        const seen: Outcome[][] = fibers.map(() => []);
        fibers.forEach((steps, i) => {
          tasks.push(
            host.spawn(function* (f) {
              for (const s of steps) {
                if (s.k === "yield") {
                  yield* f.yield();
                  continue;
                }
                if (s.k === "abort") {
                  const victim = tasks[s.v % tasks.length];
                  if (victim !== f.task && !victim.done) victim.abort();
                  continue;
                }
                try {
                  let r: number;
                  if (s.k === "nested") r = yield* f.call(guest.exports.nested, s.n);
                  else if (s.k === "add") r = yield* f.call(guest.exports.callAdd, s.a, 1);
                  else r = yield* f.call(guest.exports[s.k], s.x);
                  seen[i].push({ ok: r });
                } catch (e) {
                  if (isTaskAbortError(e)) throw e;
                  seen[i].push({ err: (e as Error).message });
                }
              }
            }),
          );
        });
        await host.run();
        for (let i = 0; i < tasks.length; i++) {
          const t = tasks[i];
          expect(t.done).toBe(true);
          let aborted = false;
          await t.result.catch((e) => {
            if (!isTaskAbortError(e)) throw e;
            aborted = true;
          });
          const want = fibers[i].map((s) => expected(s, answer)).filter((o): o is Outcome => o !== null);
          // An aborted fiber saw a prefix of its answers; the others saw all of them.
          expect(seen[i]).toEqual(aborted ? want.slice(0, seen[i].length) : want);
          const c = t.counters();
          expect(c.leaveRuntime).toBe(c.enterRuntime);
          expect(c.reverseEnterRuntime).toBe(c.reverseLeaveRuntime);
          expect(c.unmatchedReverseEnter).toBe(0);
        }
        expect(host.checkInvariants()).toBe(true);
        setFetch((x) => Promise.resolve(x % 10));
        const probe = host.spawn(function* (f) {
          return yield* f.call(guest.exports.compute, 1);
        });
        await host.run();
        expect(await probe.result).toBe(123);
      }),
      runs(100),
    );
  });
}

describe("generated programs calling into one guest", () => {
  property("asyncify");
  describe.runIf(hasJspi)("JSPI", () => property("jspi"));
});
