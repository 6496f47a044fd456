// The external suspension cases (issue 17): a guest whose own Emscripten glue suspends it (QuickJS,
// quickjs-emscripten's release-asyncify build from npm), called from fibers through
// fiberhost/emscripten's em.call, next to the same guest run by Emscripten alone (no fiberhost),
// and to fiberhost's own asyncify and f.await round trips (the interop suite, bench/interop-cases.js,
// measures them in the same process). Node only: the page would need import maps for QuickJS's
// packages (its variant loads its glue by a bare dynamic import).
//
// One operation is one call of a host function from a QuickJS program (an evaluation makes CALLS of
// them in a loop, so the evaluation's own cost is spread thin): `later()` answers a resolved promise
// (a suspension: the glue unwinds the guest, awaits, rewinds it), `now()` a number at once (no
// suspension: the call's own cost, to subtract).

/** Host function calls per evaluation. */
const CALLS = 50;
const program = (fn) => `(() => { let s = 0; for (let i = 0; i < ${CALLS}; i++) s += ${fn}(); return s; })()`;

function fail(message) {
  throw new Error(`bench: ${message}`);
}

let shared = null;
/** The process's QuickJS instances: one through fiberhost (hooked, em.call), one plain Emscripten. */
async function quickjs(host) {
  if (shared) return shared;
  const { readFileSync } = await import("node:fs");
  const { createRequire } = await import("node:module");
  const require = createRequire(import.meta.url);
  const core = await import("quickjs-emscripten-core");
  const variant = /** @type {any} */ ((await import("@jitl/quickjs-wasmfile-release-asyncify")).default);
  const { emscriptenGuest } = await import("../../dist/interop/emscripten.js");
  const bytes = readFileSync(require.resolve("@jitl/quickjs-wasmfile-release-asyncify/wasm"));
  const em = emscriptenGuest(host, bytes);
  const hooked = await core.newQuickJSAsyncWASMModuleFromVariant(
    core.newVariant(variant, { emscriptenModule: { instantiateWasm: em.instantiateWasm } }),
  );
  await em.ready;
  const plain = await core.newQuickJSAsyncWASMModuleFromVariant(variant);
  const context = (module, wrap) => {
    const ctx = module.newContext();
    const later = ctx.newAsyncifiedFunction(
      "later",
      wrap(
        () => Promise.resolve(1),
        (v) => ctx.newNumber(v),
      ),
    );
    const now = ctx.newFunction("now", () => ctx.newNumber(1));
    ctx.setProp(ctx.global, "later", later);
    ctx.setProp(ctx.global, "now", now);
    later.dispose();
    now.dispose();
    return ctx;
  };
  shared = {
    em,
    hookedCtx: context(hooked, (work, finish) => em.suspending(work, finish)),
    plainCtx: context(plain, (work, finish) => async () => finish(await work())),
  };
  return shared;
}

/** One evaluation of `code` in ctx: its number. */
async function evalOnce(ctx, code) {
  const h = ctx.unwrapResult(await ctx.evalCodeAsync(code));
  const v = ctx.getNumber(h);
  h.dispose();
  return v;
}

/** `fibers` fibers, each n evaluations of `code` through em.call: one iteration is `fibers` evaluations. */
function viaFibers(name, fibers, code, sharedHost) {
  return {
    name,
    group: "interop",
    op: "host call",
    opsPerIter: fibers * CALLS,
    async setup() {
      const host = await sharedHost();
      const q = await quickjs(host);
      // The suite's other cases cross on the root task too: only this case's runs are checked.
      let rootGained = 0;
      return {
        async run(n) {
          const before = host.rootTask.counters().reverseEnterRuntime;
          const box = { s: 0 };
          for (let k = 0; k < fibers; k++) {
            host.spawn(function* (f) {
              for (let i = 0; i < n; i++) {
                const r = yield* q.em.call(f, () => evalOnce(q.hookedCtx, code)); // box.s read after the wait
                box.s += r;
              }
            });
          }
          await host.run();
          rootGained += host.rootTask.counters().reverseEnterRuntime - before;
          return box.s;
        },
        verify(iterations, sink) {
          if (sink !== iterations * fibers * CALLS)
            fail(`${name}: sink ${sink}, expected ${iterations * fibers * CALLS}`);
          if (rootGained !== 0) fail(`${name}: the root task gained crossings (a continuation ran outside its fiber)`);
          const c = host.counters();
          if (c.leaveRuntime !== c.enterRuntime || c.reverseEnterRuntime !== c.reverseLeaveRuntime)
            fail(`${name}: the transitions do not balance`);
        },
      };
    },
  };
}

/** The same evaluation on QuickJS loaded by Emscripten alone (no fiberhost), awaited in a plain loop. */
function plain(name, code) {
  return {
    name,
    group: "interop",
    op: "host call",
    opsPerIter: CALLS,
    async setup(sharedHost) {
      const q = await quickjs(await sharedHost());
      return {
        async run(n) {
          let s = 0;
          for (let i = 0; i < n; i++) s += await evalOnce(q.plainCtx, code);
          return s;
        },
        verify(iterations, sink) {
          if (sink !== iterations * CALLS) fail(`${name}: sink ${sink}, expected ${iterations * CALLS}`);
        },
      };
    },
  };
}

/** The cases, given the interop suite's shared host (one host per process). */
export function externalCases(sharedHost) {
  const withHost = (c) => ({ ...c, setup: () => c.setup(sharedHost) });
  return [
    withHost(plain("QuickJS host call, answered at once, Emscripten alone", program("now"))),
    withHost(
      plain("external suspension round trip, Emscripten alone (QuickJS host call, resolved promise)", program("later")),
    ),
    viaFibers("QuickJS host call, answered at once, em.call, 1 fiber", 1, program("now"), sharedHost),
    viaFibers("external suspension round trip (QuickJS host call, em.call), 1 fiber", 1, program("later"), sharedHost),
    viaFibers(
      "external suspension round trip (QuickJS host call, em.call), 100 fibers",
      100,
      program("later"),
      sharedHost,
    ),
  ];
}

/** Ratios within one process (the interop suite's). */
export const EXTERNAL_RATIOS = [
  [
    "external round trip: fiberhost em.call / Emscripten alone",
    "external suspension round trip (QuickJS host call, em.call), 1 fiber",
    "external suspension round trip, Emscripten alone (QuickJS host call, resolved promise)",
  ],
  [
    "QuickJS host call with a suspension / answered at once (em.call)",
    "external suspension round trip (QuickJS host call, em.call), 1 fiber",
    "QuickJS host call, answered at once, em.call, 1 fiber",
  ],
];
