// Fiber switches: fiberhost, its floor (a raw generator) and its peers (async/await, Effect).
// The players' loops are written out in each case on purpose (see bench/cases/transitions.js).

import { createHost } from "../../dist/index.js";
import { fail } from "./support.js";

/**
 * The ping-pongs' host: one per process, as an application has one (a second host's door gives the
 * driver's switch two closures to call, as the transitions-two-hosts suite shows for transitions).
 */
let switchHost = null;

/**
 * A two-fiber ping-pong: each player counts in `box` and switches `k` times. `makePlayer(box)`
 * answers the body, written out per case (its loop is the thing measured): `player(f, k)` with the
 * box in its closure, as before this file had two of them (a generator saves and restores its
 * locals at every yield, so a body that destructures its param pays ~3 ns a switch more).
 */
function pingPong(name, makePlayer) {
  return {
    name,
    group: "switches",
    op: "switch",
    opsPerIter: 2,
    async setup() {
      switchHost ??= createHost({ clock: "virtual" });
      const host = await switchHost;
      const box = { count: 0 };
      const player = makePlayer(box);
      const switchesBefore = host.counters().switchIn;
      return {
        run(k) {
          const before = box.count;
          host.spawn(player, { param: k });
          host.spawn(player, { param: k });
          host.runUntilIdle();
          return box.count - before;
        },
        verify(iterations, sink) {
          if (sink !== 2 * iterations) fail(`ping-pong: ${sink} yields, expected ${2 * iterations}`);
          const switches = host.counters().switchIn - switchesBefore;
          if (switches < 2 * iterations) fail(`ping-pong: ${switches} switches, expected at least ${2 * iterations}`);
        },
      };
    },
  };
}

export const SWITCH_CASES = [
  // The switch's fast path (README: a plain `yield` of the fiber's f.yield() token): the targets' case.
  pingPong(
    "fiberhost switch (yield f.yield() ping-pong)",
    (box) =>
      function* player(f, k) {
        for (let i = 0; i < k; i++) {
          box.count++;
          yield f.yield();
        }
      },
  ),
  // The typed form: `yield*` delegates into the operation (two calls of its next a switch).
  pingPong(
    "fiberhost switch (yield* f.yield() ping-pong)",
    (box) =>
      function* player(f, k) {
        for (let i = 0; i < k; i++) {
          box.count++;
          yield* f.yield();
        }
      },
  ),
  {
    name: "raw generator yield round trip",
    group: "switches",
    op: "switch",
    async setup() {
      /** @returns {Generator<number, never>} */
      function* counter() {
        let i = 0;
        for (;;) yield i++;
      }
      const g = counter();
      return {
        run(n) {
          let s = 0;
          for (let i = 0; i < n; i++) s += g.next().value;
          return s;
        },
        verify(iterations) {
          const next = g.next().value;
          if (next !== iterations) fail(`generator: at ${next}, expected ${iterations}`);
        },
      };
    },
  },
  {
    name: "async/await ping-pong (resolved promises)",
    group: "switches",
    op: "switch",
    opsPerIter: 2,
    async setup() {
      const resolved = Promise.resolve();
      async function player(box, k) {
        for (let i = 0; i < k; i++) {
          box.count++;
          await resolved; // one microtask: the other player runs in between
        }
      }
      return {
        run(k) {
          const box = { count: 0 };
          return Promise.all([player(box, k), player(box, k)]).then(() => box.count);
        },
        verify(iterations, sink) {
          if (sink !== 2 * iterations) fail(`async ping-pong: ${sink}, expected ${2 * iterations}`);
        },
      };
    },
  },
  {
    // Not a target: a hand-off where each side awaits a promise that the other resolves (a
    // channel's cost), next to the cheapest ping-pong above.
    name: "async/await hand-off (each resolves the other's promise)",
    group: "switches",
    op: "switch",
    opsPerIter: 2,
    async setup() {
      return {
        run(k) {
          const box = { count: 0 };
          const wake = [null, null];
          const handOff = (to) => {
            const w = wake[to];
            wake[to] = null;
            if (w) w();
          };
          async function player(me, other) {
            for (let i = 0; i < k; i++) {
              box.count++;
              const mine = new Promise((resolve) => (wake[me] = resolve));
              handOff(other);
              await mine;
            }
            handOff(other);
          }
          return Promise.all([player(0, 1), player(1, 0)]).then(() => box.count);
        },
        verify(iterations, sink) {
          if (sink !== 2 * iterations) fail(`async hand-off: ${sink}, expected ${2 * iterations}`);
        },
      };
    },
  },
  effectCase("Effect switch (yieldNow, default scheduler)", false),
  effectCase("Effect switch (yieldNow, sync scheduler)", true),
];

/** Two forked Effect fibers, each looping over `yield* Effect.yieldNow`. */
function effectCase(name, sync) {
  return {
    name,
    group: "switches",
    op: "switch",
    opsPerIter: 2,
    async setup() {
      const Effect = await import("effect/Effect");
      const Fiber = await import("effect/Fiber");
      const { MixedScheduler } = await import("effect/Scheduler");
      const options = sync ? { scheduler: new MixedScheduler("sync") } : undefined;
      return {
        run(k) {
          const box = { count: 0 };
          const loop = Effect.gen(function* () {
            for (let i = 0; i < k; i++) {
              box.count++;
              yield* Effect.yieldNow;
            }
          });
          const program = Effect.gen(function* () {
            const a = yield* Effect.forkChild(loop);
            const b = yield* Effect.forkChild(loop);
            yield* Fiber.join(a);
            yield* Fiber.join(b);
          });
          return Effect.runPromise(program, options).then(() => box.count);
        },
        verify(iterations, sink) {
          if (sink !== 2 * iterations) fail(`Effect ping-pong: ${sink}, expected ${2 * iterations}`);
        },
      };
    },
  };
}
