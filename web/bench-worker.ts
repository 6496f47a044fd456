// Runs the transition benchmark in a worker: a thread of its own, beside the demo's.
import { runTransitionBench } from "./bench.js";

self.onmessage = async () => {
  try {
    self.postMessage({ results: await runTransitionBench() });
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
