// The typed form's floor: what `yield*` into a minimal reusable iterator costs over a plain `yield`
// of the same object, in raw generators (no scheduler, no host), in one process. The iterator is
// f.yield()'s token stripped to its protocol: its [Symbol.iterator] answers itself, its first next
// hands over a shared pending result, its second (on the resume) finishes with a result made once.
// `yield*` calls next twice a switch whatever the operation does, and V8 does not inline the
// delegate's next into the generator (--trace-turbo-inlining lists no candidate at that call
// site), so the difference printed here is a lower bound on `yield* f.yield()` − `yield f.yield()`.
// What bench/README.md ("Where the time goes: the switch") compares the library's typed form with.
//
//   node bench/yield-star-floor.js

const PENDING = { value: undefined, done: false, cmd: 1 };

class Token {
  started = false;
  finished = { value: 0, done: true };
  [Symbol.iterator]() {
    return this;
  }
  next() {
    if (this.started) {
      this.started = false;
      return this.finished;
    }
    this.started = true;
    PENDING.cmd = 1;
    return PENDING;
  }
}

const token = new Token();
function* plain() {
  for (;;) yield token;
}
function* star() {
  for (;;) yield* token;
}
// Resumed as the driver resumes a fiber: through %GeneratorPrototype%.next itself.
const generatorNext = Object.getPrototypeOf(function* () {}).prototype.next;

/** One resume a round, and the test the driver makes of what it answered. */
function drive(g, n) {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const r = generatorNext.call(g, 0);
    if (r === PENDING || r.value === token) s++;
  }
  if (s !== n) throw new Error(`${s} switches recognised, expected ${n}`);
}

/** CPU time a round in ns (the process's own time: the machine may be shared). */
function time(g, n) {
  const c0 = process.cpuUsage();
  drive(g, n);
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1e3) / n;
}

const a = plain();
const b = star();
const N = 2_000_000;
for (let w = 0; w < 10; w++) {
  time(a, N);
  time(b, N);
}
const pa = [];
const pb = [];
for (let s = 0; s < 15; s++) {
  pa.push(time(a, N));
  pb.push(time(b, N));
}
const median = (x) => x.sort((u, v) => u - v)[x.length >> 1];
const [ma, mb] = [median(pa), median(pb)];
console.log(
  `raw yield of a token ${ma.toFixed(1)} ns; raw yield* into it ${mb.toFixed(1)} ns (+${(mb - ma).toFixed(1)} ns, ${(mb / ma).toFixed(2)}×)`,
);
