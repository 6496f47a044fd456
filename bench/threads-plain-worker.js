// The pure-CPU ceiling of bench/threads.js's CPU-bound case: a plain worker (no library) that runs
// the fibers' arithmetic (threads-work.js) when asked and answers its checksum. A Node
// worker_threads worker or a module Web Worker.
import { crunchAll } from "./threads-work.js";

const node = globalThis.process?.getBuiltinModule?.("node:worker_threads")?.parentPort;
const answer = (job) => ({ id: job.id, sum: crunchAll(job) });
if (node) node.on("message", (job) => node.postMessage(answer(job)));
else globalThis.addEventListener("message", (e) => globalThis.postMessage(answer(e.data)));
