// The harness: calibrates, warms up and samples the cases of one suite in this process (or page),
// and answers their raw results. Shared by the Node runner (bench/node-worker.js) and the page
// (bench/browser/page.js).

import { CASES } from "./cases.js";
import { SUITES, RATIOS } from "./suites.js";
import { fail } from "./cases/support.js";

/** Samples of about `sampleMs` each, after `warmupMs` of warm-up (the JIT settles there). */
export const PLANS = {
  full: { processes: 7, sampleMs: 20, warmupMs: 300, samples: 25, fixedSamples: 3 },
  quick: { processes: 3, sampleMs: 8, warmupMs: 80, samples: 8, fixedSamples: 1 },
};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Calls run(n) and times it; awaits only when the case is asynchronous (outside the sync timing). */
async function timed(env, inst, n) {
  const t0 = env.now();
  let r = inst.run(n);
  if (r !== null && typeof r === "object" && typeof r.then === "function") r = await r;
  return { ms: env.now() - t0, sink: r };
}

/** A case being measured: its instance, its iterations and sink so far, and its samples. */
class Measured {
  constructor(c, inst, env) {
    this.c = c;
    this.inst = inst;
    this.env = env;
    this.n = 1;
    this.iterations = 0;
    this.sink = 0;
    this.samplesNs = [];
  }
  async call(n) {
    const r = await timed(this.env, this.inst, n);
    this.iterations += n;
    this.sink += r.sink;
    return r.ms;
  }
  /** ns per operation of a call of n iterations. */
  async sample(n) {
    return ((await this.call(n)) * 1e6) / (n * (this.c.opsPerIter ?? 1));
  }
  /**
   * Grows n until a call takes about plan.sampleMs. A cold call (the first at a size, before the
   * JIT has caught up) is slow, so the size is taken from the faster of two calls.
   */
  async calibrate(plan) {
    let n = this.n;
    for (;;) {
      const ms = await this.call(n);
      if (ms >= plan.sampleMs / 8 || n >= 2 ** 30) {
        this.n = Math.max(1, Math.round((n * plan.sampleMs) / Math.max(ms, 1e-3)));
        const again = await this.call(this.n);
        this.resizeFrom([ms / n, again / this.n], plan);
        return;
      }
      n *= 4;
    }
  }
  /** Re-sizes n from hot calls until one takes between half and twice plan.sampleMs (a few rounds at most). */
  async settle(plan) {
    for (let round = 0; round < 6; round++) {
      const ms = await this.call(this.n);
      if (ms >= plan.sampleMs / 2 && ms <= plan.sampleMs * 2) return;
      this.resizeFrom([ms / this.n], plan);
    }
  }
  /**
   * Sizes n to plan.sampleMs from measured ms per iteration: their median, so that one reading
   * below the timer's resolution (a page's clock is coarse) cannot blow n up; and by at most 16
   * times either way at once.
   */
  resizeFrom(msPerIter, plan) {
    const per = median(msPerIter.filter((x) => x > 0));
    const want = Number.isFinite(per) ? plan.sampleMs / per : this.n * 16;
    this.n = Math.max(1, Math.round(Math.min(this.n * 16, Math.max(this.n / 16, want))));
  }
}

/**
 * The timed cases of a suite, measured together: each is calibrated, then all are warmed up in
 * turns (so every path of the suite is hot, as in a program that uses them all, before any is
 * measured), re-sized, and sampled in turns, one sample of each case per round, so that drift
 * over time (the JIT, the GC, another process) falls on every case alike.
 */
async function measureTogether(cases, env, plan) {
  const ms = [];
  for (const c of cases) ms.push(new Measured(c, await c.setup(env), env));
  for (const m of ms) await m.calibrate(plan);
  const spent = ms.map(() => 0);
  const perIter = ms.map(() => []);
  while (spent.some((t) => t < plan.warmupMs)) {
    for (let i = 0; i < ms.length; i++) {
      if (spent[i] >= plan.warmupMs) continue;
      const t = await ms[i].call(ms[i].n);
      spent[i] += t;
      perIter[i].push(t / ms[i].n);
    }
  }
  // The JIT has sped the loops up during the warm-up: size the samples again, from the second
  // half of the warm-up calls (the first may still have been cold).
  for (let i = 0; i < ms.length; i++) ms[i].resizeFrom(perIter[i].slice(perIter[i].length >> 1), plan);
  // A case whose first calls were cold (a compile, a first host) was sized far too small, and the
  // warm-up's resize moves it by at most 16 times: size it again, from hot calls, until a call
  // takes about a sample's time (a ping-pong sized at 13 iterations measured its spawns, 5× the
  // switch).
  for (const m of ms) await m.settle(plan);
  for (let round = 0; round < plan.samples; round++) {
    for (const m of ms) m.samplesNs.push(await m.sample(m.n));
  }
  for (const m of ms) m.inst.verify(m.iterations, m.sink);
  return ms.map((m) => ({ samplesNs: m.samplesNs, sink: m.sink, iterations: m.iterations }));
}

/** A case with a fixed n (a million fibers): one warm-up call, then plan.fixedSamples samples. */
async function measureFixed(c, env, plan) {
  const m = new Measured(c, await c.setup(env), env);
  await m.call(c.warmupN ?? c.fixedN);
  for (let i = 0; i < plan.fixedSamples; i++) m.samplesNs.push(await m.sample(c.fixedN));
  m.inst.verify(m.iterations, m.sink);
  return { samplesNs: m.samplesNs, sink: m.sink, iterations: m.iterations };
}

/**
 * Runs one suite in this process (or page) and answers its raw results: per case the samples
 * (ns/op), the sink and the metrics; per ratio its value in this process.
 * env: { quick, now(), gc?(), memory() -> { rss?, heap?, browserRss? } | null (or a promise), log(message) }.
 */
export async function runSuite(suite, env) {
  const names = SUITES[suite];
  if (!names) fail(`no suite ${suite}; suites: ${Object.keys(SUITES).join(", ")}`);
  const plan = env.quick ? PLANS.quick : PLANS.full;
  const all = names.map(
    (name) => CASES.find((x) => x.name === name) ?? fail(`suite ${suite} names an unknown case ${name}`),
  );
  const results = new Map();
  const t0 = env.now();
  for (const c of all) {
    if (c.measure) results.set(c, await c.measure(env, plan));
    else if (c.fixedN !== undefined) results.set(c, await measureFixed(c, env, plan));
  }
  const together = all.filter((c) => !c.measure && c.fixedN === undefined);
  if (together.length) {
    const rs = await measureTogether(together, env, plan);
    for (let i = 0; i < together.length; i++) results.set(together[i], rs[i]);
  }
  const cases = {};
  const metrics = {};
  const notes = [];
  for (const c of all) {
    const r = results.get(c);
    Object.assign(metrics, r.metrics ?? {});
    notes.push(...(r.notes ?? []));
    const med = median(r.samplesNs);
    cases[c.name] = { group: c.group, op: c.op, samplesNs: r.samplesNs, medianNs: med, sink: r.sink };
    env.log(`  ${c.name}: ${fmtNs(med)}/${c.op}  (sink ${r.sink})`);
  }
  env.log(`  (${((env.now() - t0) / 1000).toFixed(1)} s)`);
  if (cases["spawn + run + exit (1,000,000 fibers)"]) {
    metrics["spawn + run + exit: fibers per second"] = 1e9 / cases["spawn + run + exit (1,000,000 fibers)"].medianNs;
  }
  const fSpawn = cases["spawn + run + exit, f.spawn from a fiber (1,000,000 fibers)"];
  if (fSpawn) metrics["spawn + run + exit, f.spawn: fibers per second"] = 1e9 / fSpawn.medianNs;
  const sHeld = cases["suspend + resume, 10,000 fibers held in managed mode"];
  if (sHeld) metrics["suspend + resume: per held fiber (ns)"] = sHeld.medianNs / 10_000;
  const ratios = {};
  for (const r of RATIOS) {
    if (cases[r.num] && cases[r.den]) ratios[r.name] = cases[r.num].medianNs / cases[r.den].medianNs;
  }
  return { suite, cases, metrics, ratios, notes };
}

export function fmtNs(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toPrecision(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toPrecision(3)} µs`;
  return `${ns.toPrecision(3)} ns`;
}
