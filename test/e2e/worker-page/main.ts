/// <reference types="vite/client" />
// A page built by Vite (test/e2e/worker-page.node.test.ts) that starts workers through startWorker,
// as an application bundling fiberhost would: Vite must have bundled the bootstrap (worker-main.ts)
// from startWorker's `new Worker(new URL(...))`, and each worker loads a module by URL:
// - a plain JavaScript module, which Vite copies as an asset (`new URL(..., import.meta.url)`);
// - a TypeScript module that imports the library, bundled by Vite as a worker entry (`?worker&url`).
import { startWorker, type WorkerPort } from "../../../src/threads/worker-start.js";
import bundledUrl from "./bundled.ts?worker&url";

function reply(port: WorkerPort): Promise<unknown> {
  return new Promise((resolve, reject) => {
    port.onMessage(resolve);
    port.onExit((exit) => reject(new Error(`the worker ended: code ${exit.code}, ${String(exit.error)}`)));
  });
}

async function run(): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = { crossOriginIsolated: globalThis.crossOriginIsolated === true };
  const buffer = new SharedArrayBuffer(4);
  const words = new Int32Array(buffer);

  const asset = startWorker({
    module: new URL("../../fixtures/workers/atomics-add.js", import.meta.url),
    data: "asset",
  });
  asset.postMessage({ buffer, add: 5 });
  result.asset = await reply(asset);
  result.word = Atomics.load(words, 0);
  await asset.terminate();

  const bundled = startWorker({ module: new URL(bundledUrl, location.href), data: "bundled" });
  result.bundled = await reply(bundled);
  await bundled.terminate();
  return result;
}

run().then(
  (result) => Object.assign(globalThis, { workerPage: result }),
  (error: unknown) => Object.assign(globalThis, { workerPage: { error: String(error) } }),
);
