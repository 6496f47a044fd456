// The plain workers (no library) of bench/threads.js: the pure-CPU ceiling of the CPU-bound case
// (the fibers' arithmetic, threads-work.js, answered with its checksum), and the wake floor (a raw
// Atomics.waitAsync ping-pong: the mechanism a cross-worker wake rides on, without the runtime). A
// Node worker_threads worker or a module Web Worker.
import { crunchAll } from "./threads-work.js";

/** Atomics.waitAsync (Node 20, Chromium; not in this TypeScript's lib yet). */
const waitAsync = /** @type {any} */ (Atomics).waitAsync;
const node = globalThis.process?.getBuiltinModule?.("node:worker_threads")?.parentPort;
const post = (m) => (node ? node.postMessage(m) : globalThis.postMessage(m));

/** Word 0 is the main thread's ping (round i), word 1 this worker's pong: waitAsync on one, store and notify the other. */
async function pong({ sab, rounds }) {
  const w = new Int32Array(sab);
  for (let i = 1; i <= rounds; i++) {
    const r = waitAsync(w, 0, i - 1);
    if (r.async) await r.value;
    Atomics.store(w, 1, i);
    Atomics.notify(w, 1);
  }
  post({ done: true });
}

const handle = (job) => (job.sab ? void pong(job) : post({ id: job.id, sum: crunchAll(job) }));
if (node) node.on("message", handle);
else globalThis.addEventListener("message", (e) => handle(e.data));
