// The transition benchmark, in the page: each transition pair next to the floor (two calls of an
// empty wasm function), on a host of its own. Each case runs in batches of a calibrated length;
// the best batch counts (the least disturbed by the demo running beside it). The page yields to
// the event loop between batches, so it stays responsive.

import { createHost, S_OK, type FiberContext, type Host } from "../src/index.js";

export interface BenchResult {
  name: string;
  ns: number;
  floor?: boolean;
}

// (module (func (export "f"))): the emptiest wasm function there is.
const EMPTY_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07,
  0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
]);

const BATCHES = 7;
const BATCH_MS = 25;
const CHUNK = 10_000;
const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/**
 * ns per iteration of `loop(n)`: the best of several batches, each running chunks of the loop
 * until BATCH_MS have passed (a batch's length does not depend on a calibration that a cold
 * first run would spoil), after a warm-up batch.
 */
async function measure(loop: (n: number) => void): Promise<number> {
  let best = Infinity;
  for (let b = 0; b <= BATCHES; b++) {
    await pause();
    let ops = 0;
    let ms = 0;
    const t0 = performance.now();
    do {
      loop(CHUNK);
      ops += CHUNK;
      ms = performance.now() - t0;
    } while (ms < BATCH_MS);
    if (b > 0) best = Math.min(best, (ms * 1e6) / ops);
  }
  return best;
}

// One wasm instance and one host for every run: a second instance behind the same call site
// would make it polymorphic, and the floor's calls would stop being inlined.
let setup: Promise<{ empty: () => void; host: Host; switchHost: Host }> | null = null;

export async function runTransitionBench(): Promise<BenchResult[]> {
  setup ??= (async () => {
    const { instance } = await WebAssembly.instantiate(EMPTY_WASM);
    return {
      empty: instance.exports.f as () => void,
      host: await createHost(),
      switchHost: await createHost({ clock: "virtual" }),
    };
  })();
  const { empty, host, switchHost } = await setup;
  const tm = host.taskManager;
  const out: BenchResult[] = [];

  out.push({
    name: "floor: two empty wasm calls",
    floor: true,
    ns: await measure((n) => {
      for (let i = 0; i < n; i++) {
        empty();
        empty();
      }
    }),
  });
  out.push({
    name: "ReverseEnter + ReverseLeave",
    ns: await measure((n) => {
      for (let i = 0; i < n; i++) {
        tm.reverseEnterRuntime();
        tm.reverseLeaveRuntime();
      }
    }),
  });
  if (tm.reverseEnterRuntime() !== S_OK) throw new Error("the benchmark host could not enter managed code");
  out.push({
    name: "LeaveRuntime + EnterRuntime",
    ns: await measure((n) => {
      for (let i = 0; i < n; i++) {
        tm.leaveRuntime(0x1000);
        tm.enterRuntime();
      }
    }),
  });
  tm.reverseLeaveRuntime();
  // A fiber switch: two fibers yielding to each other (per switch), the fast path's plain yield.
  out.push({
    name: "fiber switch (yield f.yield())",
    ns: await measure((n) => {
      const half = Math.ceil(n / 2);
      const body = function* (f: FiberContext) {
        for (let i = 0; i < half; i++) yield f.yield();
      };
      switchHost.spawn(body);
      switchHost.spawn(body);
      switchHost.runUntilIdle();
    }),
  });
  return out;
}

const fmt = (ns: number): string =>
  !Number.isFinite(ns) ? "n/a" : ns < 10 ? ns.toFixed(2) : ns < 100 ? ns.toFixed(1) : ns.toFixed(0);

/** A horizontal bar chart (SVG) of the results, with the floor as a dashed line across every bar. */
export function chart(results: BenchResult[]): string {
  const width = 640;
  const labelW = 210;
  const barW = width - labelW - 150;
  const rowH = 30;
  const height = results.length * rowH + 24;
  const max = Math.max(...results.map((r) => (Number.isFinite(r.ns) ? r.ns : 0)), 1e-9);
  const floor = results.find((r) => r.floor)?.ns ?? 0;
  const x = (ns: number): number => labelW + (barW * ns) / max;
  const rows = results
    .map((r, i) => {
      const y = i * rowH + 6;
      const ratio = floor > 0 && !r.floor && Number.isFinite(r.ns) ? ` (${(r.ns / floor).toFixed(1)}×)` : "";
      return `<g data-case="${r.name}">
        <text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${r.name}</text>
        <rect x="${labelW}" y="${y + 2}" width="${Math.max(1, x(Number.isFinite(r.ns) ? r.ns : 0) - labelW).toFixed(1)}" height="18" rx="2" fill="${r.floor ? "#9aa5b1" : "#2f6fde"}"/>
        <text x="${(x(Number.isFinite(r.ns) ? r.ns : 0) + 6).toFixed(1)}" y="${y + 15}">${fmt(r.ns)} ns${ratio}</text>
      </g>`;
    })
    .join("");
  const fx = x(floor).toFixed(1);
  return `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="transition benchmark, ns per operation">
    ${rows}
    <line x1="${fx}" x2="${fx}" y1="2" y2="${height - 18}" stroke="#52606d" stroke-dasharray="4 3"/>
    <text x="${fx}" y="${height - 4}" text-anchor="middle" class="axis">floor ${fmt(floor)} ns</text>
  </svg>`;
}
