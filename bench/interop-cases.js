// The interop cases: what a hooked crossing of a real guest (examples/guest) costs over an
// unhooked one, what asyncify costs on code that never suspends, and a suspension round trip on
// each path next to f.await's. Same case shape as bench/cases/ (name, group, op, setup → run(n),
// verify); run standalone by bench/interop.js. One host per process, shared by the cases.
// Each case has its own loop, written out (see bench/cases/transitions.js).

import { createHost } from "../dist/index.js";
import { guestBytes, SUSPENDING } from "../dist/demo/generated/guest-wasm.js";
import { GUEST_STACK_RATIOS, guestStackCases } from "./cases/guest-stack.js";
import { EXTERNAL_RATIOS, externalCases } from "./cases/external.js";

/** Node: the external cases load QuickJS's packages by bare specifiers, which the page does not map. */
const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

function fail(message) {
  throw new Error(`bench: ${message}`);
}

const HOOKED_ADD = 0x10;
const UNHOOKED_ADD = 0x11;
const hasJspi = typeof (/** @type {any} */ (WebAssembly).Suspending) === "function";

let shared = null;
/** The process's host and its guests: hooked and unhooked host_add, plain and asyncify builds. */
async function guests() {
  if (shared) return shared;
  const host = await createHost({ callNeedsHostHook: (t) => t !== UNHOOKED_ADD });
  const state = { fetch: (x) => x };
  const imports = () => ({
    env: {
      host_add: (a, b) => a + b,
      host_fetch: (x) => state.fetch(x),
      host_callback: () => 0,
      host_fail: () => {},
      host_note: () => {},
    },
  });
  const named = (t) => (_m, n) => (n === "host_add" ? t : undefined);
  const load = (kind, addTarget, suspension) =>
    host.instantiate(guestBytes(kind), imports(), { suspending: SUSPENDING, suspension, target: named(addTarget) });
  shared = {
    host,
    state,
    hooked: await load("plain", HOOKED_ADD, "none"),
    unhooked: await load("plain", UNHOOKED_ADD, "none"),
    asyncify: await load("asyncify", HOOKED_ADD, "asyncify"),
    jspi: hasJspi ? await load("plain", HOOKED_ADD, "jspi") : null,
  };
  if (shared.hooked.hooked["env.host_add"] !== true || shared.unhooked.hooked["env.host_add"] !== false)
    fail("the hook policy was not applied");
  return shared;
}

/** A case whose sink is the sum of n calls' results, each `perCall`. */
function sumCheck(label, perCall) {
  return (iterations, sink) => {
    if (sink !== iterations * perCall) fail(`${label}: sink ${sink}, expected ${iterations * perCall}`);
  };
}

/**
 * `fibers` fibers each making n round trips (f.call on a suspending export, or f.await), then the
 * run awaited: one iteration is `fibers` round trips.
 */
function roundTrips(name, fibers, pick) {
  return {
    name,
    group: "interop",
    op: "round trip",
    opsPerIter: fibers,
    async setup() {
      const g = await guests();
      const target = pick(g);
      g.state.fetch = (x) => Promise.resolve(x);
      return {
        async run(n) {
          const box = { s: 0 };
          for (let k = 0; k < fibers; k++) {
            g.host.spawn(function* (f) {
              for (let i = 0; i < n; i++) {
                const r = yield* target(f); // read box.s after the wait: other fibers add meanwhile
                box.s += r;
              }
            });
          }
          await g.host.run();
          return box.s;
        },
        verify: sumCheck(name, fibers),
      };
    },
  };
}

export const INTEROP_CASES = [
  {
    name: "guest export call, unhooked (instance.exports.add)",
    group: "interop",
    op: "call",
    async setup() {
      const add = (await guests()).hooked.instance.exports.add;
      return {
        run(n) {
          let s = 0;
          for (let i = 0; i < n; i++) s += add(i & 1, 1);
          return s;
        },
        verify(iterations, sink) {
          if (sink < iterations) fail("unhooked export: wrong sink");
        },
      };
    },
  },
  {
    name: "guest export call, hooked (guest.exports.add)",
    group: "interop",
    op: "call",
    async setup() {
      const g = await guests();
      const add = g.hooked.exports.add;
      const before = g.host.rootTask.counters().reverseEnterRuntime;
      return {
        run(n) {
          let s = 0;
          for (let i = 0; i < n; i++) s += add(i & 1, 1);
          return s;
        },
        verify(iterations, sink) {
          if (sink < iterations) fail("hooked export: wrong sink");
          if (g.host.rootTask.counters().reverseEnterRuntime - before < iterations)
            fail("hooked export: the transitions did not happen");
        },
      };
    },
  },
  {
    name: "guest import call, unhooked (policy false), from a loop in the guest",
    group: "interop",
    op: "call",
    async setup() {
      const addLoop = (await guests()).unhooked.exports.addLoop; // one hooked export call per run, n imports
      return { run: (n) => addLoop(n), verify: sumCheck("unhooked import", 1) };
    },
  },
  {
    name: "guest import call, hooked, from a loop in the guest",
    group: "interop",
    op: "call",
    async setup() {
      const g = await guests();
      const addLoop = g.hooked.exports.addLoop; // one hooked export call per run, n imports
      const before = g.host.rootTask.counters().leaveRuntime;
      return {
        run: (n) => addLoop(n),
        verify(iterations, sink) {
          sumCheck("hooked import", 1)(iterations, sink);
          if (g.host.rootTask.counters().leaveRuntime - before < iterations)
            fail("hooked import: the transitions did not happen");
        },
      };
    },
  },
  {
    name: "sumMaybeFetch(64, no fetch), plain guest",
    group: "interop",
    op: "call",
    async setup() {
      const f = (await guests()).hooked.instance.exports.sumMaybeFetch;
      const one = f(64, 0);
      return {
        run(n) {
          let s = 0;
          for (let i = 0; i < n; i++) s += f(64, 0);
          return s;
        },
        verify: sumCheck("plain sumMaybeFetch", one),
      };
    },
  },
  {
    name: "sumMaybeFetch(64, no fetch), asyncify guest",
    group: "interop",
    op: "call",
    async setup() {
      const f = (await guests()).asyncify.instance.exports.sumMaybeFetch;
      const one = f(64, 0);
      return {
        run(n) {
          let s = 0;
          for (let i = 0; i < n; i++) s += f(64, 0);
          return s;
        },
        verify: sumCheck("asyncify sumMaybeFetch", one),
      };
    },
  },
  {
    name: "hooked export called in a fiber (guest.exports.add)",
    group: "interop",
    op: "call",
    async setup() {
      const g = await guests();
      const add = g.hooked.exports.add;
      return {
        run(n) {
          const box = { s: 0 };
          g.host.spawn(function* () {
            for (let i = 0; i < n; i++) box.s += add(1, 1);
          });
          g.host.runUntilIdle();
          return box.s;
        },
        verify: sumCheck("fiber hooked add", 2),
      };
    },
  },
  {
    name: "yield* f.call(add) in a fiber, asyncify guest, no suspension",
    group: "interop",
    op: "call",
    async setup() {
      const g = await guests();
      const add = g.asyncify.exports.add;
      return {
        run(n) {
          const box = { s: 0 };
          g.host.spawn(function* (f) {
            for (let i = 0; i < n; i++) box.s += yield* f.call(add, 1, 1);
          });
          g.host.runUntilIdle();
          return box.s;
        },
        verify: sumCheck("f.call add", 2),
      };
    },
  },
  roundTrips("suspension round trip, asyncify, 1 fiber", 1, (g) => (f) => f.call(g.asyncify.exports.fetchOnce, 1)),
  roundTrips("suspension round trip, asyncify, 100 fibers", 100, (g) => (f) => f.call(g.asyncify.exports.fetchOnce, 1)),
  // JSPI's cases exist only where the engine has it (Chromium; not Node 20).
  ...(hasJspi
    ? [
        roundTrips("suspension round trip, JSPI, 1 fiber", 1, (g) => (f) => f.call(g.jspi.exports.fetchOnce, 1)),
        roundTrips("suspension round trip, JSPI, 100 fibers", 100, (g) => (f) => f.call(g.jspi.exports.fetchOnce, 1)),
        roundTrips("yield* f.call(add), JSPI, no suspension", 1, (g) => (f) => f.call(g.jspi.exports.add, 1, 0)),
      ]
    : []),
  roundTrips("f.await(resolved promise), 1 fiber", 1, () => (f) => f.await(Promise.resolve(1))),
  roundTrips("f.await(resolved promise), 100 fibers", 100, () => (f) => f.await(Promise.resolve(1))),
  ...guestStackCases(async () => (await guests()).host),
];

/**
 * A guest whose own Emscripten glue suspends it (bench/cases/external.js), on the suite's one host,
 * in a suite (a process) of its own: QuickJS's crossings through the shared call sites (the
 * guest-call state, the hooked wrappers) made the plain guests' cases in the same process 1.3–3×
 * slower (f.call 45 → 126 ns), which measured the mix, not either. Node only (its guest's bytes
 * are read from node_modules).
 */
export const EXTERNAL_CASES = isNode ? externalCases(async () => (await guests()).host) : [];

/** The interop ratios (numerator, denominator), each taken within one process. */
export const INTEROP_RATIOS = [
  [
    "hooked / unhooked export call",
    "guest export call, hooked (guest.exports.add)",
    "guest export call, unhooked (instance.exports.add)",
  ],
  [
    "hooked / unhooked import call",
    "guest import call, hooked, from a loop in the guest",
    "guest import call, unhooked (policy false), from a loop in the guest",
  ],
  [
    "asyncify / plain, code that never suspends",
    "sumMaybeFetch(64, no fetch), asyncify guest",
    "sumMaybeFetch(64, no fetch), plain guest",
  ],
  [
    "asyncify round trip / f.await, 1 fiber",
    "suspension round trip, asyncify, 1 fiber",
    "f.await(resolved promise), 1 fiber",
  ],
  [
    "asyncify round trip / f.await, 100 fibers",
    "suspension round trip, asyncify, 100 fibers",
    "f.await(resolved promise), 100 fibers",
  ],
  [
    "JSPI / asyncify round trip, 1 fiber",
    "suspension round trip, JSPI, 1 fiber",
    "suspension round trip, asyncify, 1 fiber",
  ],
  [
    "JSPI / asyncify round trip, 100 fibers",
    "suspension round trip, JSPI, 100 fibers",
    "suspension round trip, asyncify, 100 fibers",
  ],
  ...GUEST_STACK_RATIOS,
  ...EXTERNAL_RATIOS,
];
