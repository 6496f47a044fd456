// The CPU-bound case's arithmetic, shared by the fibers (threads-bodies.js) and the plain workers
// with no library (threads-plain-worker.js), so both do exactly the same work.

/** `iters` rounds of xorshift32 from `x`: a few ns each, no allocation, nothing an engine can fold away. */
export function crunch(x, iters) {
  let y = x | 0 || 1;
  for (let i = 0; i < iters; i++) {
    y ^= y << 13;
    y ^= y >>> 17;
    y ^= y << 5;
  }
  return y | 0;
}

/** What the fibers compute, as one loop: `fibers` × `steps` × `iters`; the same checksum. */
export function crunchAll({ fibers, steps, iters, first = 0 }) {
  let sum = 0;
  for (let i = 0; i < fibers; i++) {
    let x = first + i + 1;
    for (let s = 0; s < steps; s++) x = crunch(x, iters);
    sum = (sum + x) | 0;
  }
  return sum;
}
