// What /proc (Linux) tells the runners about the machine while they measure: CPU time, to see
// whether anything else ran meanwhile, and the RSS of the browser's processes. Elsewhere every
// function answers null.

import { readFileSync, readdirSync } from "node:fs";

/** pid -> { ppid, jiffies (utime + stime + reaped children's), rssPages } for every process. */
function processes() {
  const out = new Map();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // ended meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(Number(pid), {
      ppid: Number(f[1]),
      // utime + stime, and cutime + cstime: the children it has reaped (an ended benchmark process)
      jiffies: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
      rssPages: Number(f[21]),
    });
  }
  return out;
}

/** The processes descended from this one (itself excluded). */
function descendants(all) {
  const mine = [];
  for (const p of all.values()) {
    for (let q = p.ppid, hops = 0; q > 0 && hops < 64; q = all.get(q)?.ppid ?? 0, hops++) {
      if (q === process.pid) {
        mine.push(p);
        break;
      }
    }
  }
  return mine;
}

/**
 * CPU time from /proc (Linux; null elsewhere): jiffies busy on the whole machine, and jiffies used
 * by this process and its descendants (the benchmark processes, the browser). What the machine
 * spent beyond ours, over the wall time, is what else ran meanwhile: interference.
 */
export function cpuTimes() {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = f.reduce((a, b) => a + b, 0) - f[3] - (f[4] ?? 0);
    const all = processes();
    let ours = all.get(process.pid)?.jiffies ?? 0;
    for (const p of descendants(all)) ours += p.jiffies;
    return { busy, ours, at: performance.now() };
  } catch {
    return null;
  }
}

/** Cores used on average by everything else between two cpuTimes() readings (100 jiffies a second). */
export function otherCores(a, b) {
  if (!a || !b) return undefined;
  const seconds = (b.at - a.at) / 1000;
  return Math.max(0, (b.busy - a.busy - (b.ours - a.ours)) / 100 / seconds);
}

/** Bytes resident in the processes descended from this one (the browser's: a page's renderer among them). */
export function descendantsRss() {
  try {
    const page = 4096;
    return descendants(processes()).reduce((sum, p) => sum + p.rssPages * page, 0);
  } catch {
    return null;
  }
}

/**
 * Waits (up to maxMs) until everything else on the machine uses less than `cores` cores over a
 * half-second window: another session's test run would otherwise share the two cores with the
 * benchmark. Answers the ms waited and the last reading.
 */
export async function waitForQuiet(cores = 0.3, maxMs = 60_000) {
  const start = performance.now();
  for (;;) {
    const a = cpuTimes();
    await new Promise((r) => setTimeout(r, 500));
    const others = otherCores(a, cpuTimes());
    const waited = performance.now() - start;
    if (others === undefined || others < cores || waited >= maxMs) return { waitedMs: waited, others };
  }
}
