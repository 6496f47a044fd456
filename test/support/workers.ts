// What a test needs to start a worker running a fixture module (test/fixtures/workers/*.js, plain
// JavaScript: a Node worker cannot load TypeScript), the same in both projects:
//
// - Chromium (the browser project): the library's sources, served by Vite; the worker's bootstrap
//   is src/threads/worker-main.ts, rewritten by Vite from startWorker's `new Worker(new URL(...))`.
// - Node: the library built into dist/ (a worker_threads worker loads files as Node does, no Vite in
//   between), rebuilt here first when src/ changed since (scripts/build-lib.mjs; instant when not).
//
// A fixture that needs the library imports it by the package's name, `from "fiberhost"`: Node resolves
// that to dist/ (package.json's exports name the package itself), Vite to src/index.ts (vitest.config.ts's
// alias). A fixture finds its start in `main(data, port)` (src/threads/worker-main.ts).

import type * as WorkerStart from "../../src/threads/worker-start.js";
import type { WorkerExit, WorkerPort, WorkerStartOptions } from "../../src/threads/worker-start.js";
import type * as KeepAlive from "../../src/threads/keep-alive.js";

export type { WorkerExit, WorkerPort };

/** True in the browser project. */
export const inBrowser = typeof document !== "undefined";

/** The URL of a fixture module of test/fixtures/workers/ (a variable, not a literal: Vite leaves it alone). */
export function fixtureUrl(name: string): string {
  const path = `../fixtures/workers/${name}`;
  return new URL(path, import.meta.url).href;
}

/** The dist/ directory's URL (Node). */
export const distUrl = (): string => new URL("../../dist/", import.meta.url).href;

let built: Promise<void> | null = null;
/** Node: brings dist/ up to date with src/ once per test process (a lock: test files run in parallel). */
function distReady(): Promise<void> {
  built ??= (async () => {
    const { spawnSync } = await import("node:child_process");
    const { mkdirSync, rmdirSync } = await import("node:fs");
    const { fileURLToPath } = await import("node:url");
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const lock = `${root}/build/stamps/lib.lock`;
    mkdirSync(`${root}/build/stamps`, { recursive: true });
    for (let waited = 0; ; waited += 100) {
      try {
        mkdirSync(lock);
        break;
      } catch {
        // Another test process is building: wait for it (a lock left by a killed run goes after 2 min).
        if (waited > 120_000) rmdirSync(lock);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    try {
      const run = spawnSync(process.execPath, ["scripts/build-lib.mjs"], { cwd: root, encoding: "utf8" });
      if (run.status !== 0) throw new Error(`node scripts/build-lib.mjs failed:\n${run.stdout}${run.stderr}`);
    } finally {
      rmdirSync(lock);
    }
  })();
  return built;
}

/** The library's startWorker: src/ in Chromium, dist/ in Node. */
export async function workerStart(): Promise<typeof WorkerStart> {
  if (inBrowser) return import("../../src/threads/worker-start.js");
  await distReady();
  return import(/* @vite-ignore */ `${distUrl()}threads/worker-start.js`);
}

/** The library's keep-alive, from where workerStart takes startWorker. */
export async function keepAliveModule(): Promise<typeof KeepAlive> {
  if (inBrowser) return import("../../src/threads/keep-alive.js");
  await distReady();
  return import(/* @vite-ignore */ `${distUrl()}threads/keep-alive.js`);
}

/** Starts a worker running the fixture `name`; `stopAll` (an afterEach) ends it if the test did not. */
export async function startFixture(
  name: string,
  options: Omit<WorkerStartOptions, "module"> = {},
): Promise<WorkerPort> {
  const { startWorker } = await workerStart();
  const port = startWorker({ ...options, module: fixtureUrl(name) });
  started.add(port);
  port.onExit(() => started.delete(port));
  return port;
}

const started = new Set<WorkerPort>();
/** Terminates every fixture worker still running (an afterEach: a failed test leaves none behind). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((port) => port.terminate()));
}

/** The worker's next message, or a rejection naming how it ended first. */
export function nextMessage(port: WorkerPort): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const offExit = port.onExit((exit) => reject(new Error(`the worker ended first: ${show(exit)}`)));
    const off = port.onMessage((value) => {
      off();
      offExit();
      resolve(value);
    });
  });
}

/** How the worker ends, as onExit reports it. */
export function exitOf(port: WorkerPort): Promise<WorkerExit> {
  return new Promise((resolve) => port.onExit(resolve));
}

/** Atomics.waitAsync (ES2024, not in this TypeScript lib), answering its result as a promise. */
export async function waitAsync(words: Int32Array, index: number, value: number, ms: number): Promise<string> {
  const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
  const r = waitAsync(words, index, value, ms);
  return r.value;
}
type WaitAsync = (
  a: Int32Array,
  i: number,
  v: number,
  ms: number,
) => { async: true; value: Promise<string> } | { async: false; value: string };

export function show(exit: WorkerExit): string {
  return `code ${exit.code}${"error" in exit ? `, error ${String(exit.error)}` : ""}`;
}

/** The library itself, from where workerStart takes startWorker (src/ in Chromium, dist/ in Node): a pool's workers load the same. */
export async function fiberhost(): Promise<typeof import("../../src/index.js")> {
  if (inBrowser) return import("../../src/index.js");
  await distReady();
  return import(/* @vite-ignore */ `${distUrl()}index.js`);
}
