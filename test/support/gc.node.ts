// Node only: the garbage collector on demand (a V8 flag set at run time), for the heap checks of
// the *.node.test.ts files.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");

/** A full garbage collection. */
export const gc = runInNewContext("gc") as () => void;

/** The JS heap in use after two full collections (the second takes what the first's finalizers let go). */
export function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
