// The switch's floor for this design: a stripped two-fiber ping-pong (a ready ring, the door's
// exchange over typed arrays, the f.yield() token test; no fences, no priorities, no requests)
// beside a raw generator round trip and an async/await ping-pong, in one process. What
// bench/README.md ("Where the time goes: the switch") compares the library's switch with.
//
//   node bench/switch-prototype.js [noexchange]

const GeneratorPrototype = Object.getPrototypeOf(function* () {}).prototype;
const generatorNext = GeneratorPrototype.next;
const EXCHANGE = process.argv[2] !== "noexchange";

// The core's memory as the door sees it: a control word, the current task, per-task slots of 64
// bytes (its generation at +4, its SwitchOut/SwitchIn counters at +64/+72 as f64).
const memory = new WebAssembly.Memory({ initial: 16 });
const i32 = new Int32Array(memory.buffer);
const f64 = new Float64Array(memory.buffer);
function exchange(from, to) {
  if (i32[0] === 0 && i32[1] === from.idx && i32[from.base + 1] === from.gen && i32[to.base + 1] === to.gen) {
    i32[1] = to.idx;
    f64[(from.base >> 1) + 8]++;
    f64[(to.base >> 1) + 9]++;
    return true;
  }
  throw new Error("the prototype has no slow path");
}

class Ring {
  items = new Array(16);
  head = 0;
  tail = 0;
  push(x) {
    this.items[this.tail++ & 15] = x;
  }
  shift() {
    if (this.head === this.tail) return undefined;
    const i = this.head++ & 15;
    const x = this.items[i];
    this.items[i] = undefined;
    return x;
  }
}

class Fiber {
  constructor(idx, body, k) {
    this.idx = idx;
    this.gen = 1;
    this.base = idx * 64;
    this.token = { yield: true };
    this.resumeValue = undefined;
    this.iter = body(this, k);
    i32[this.base + 1] = 1;
  }
  yield() {
    return this.token;
  }
}

const ready = new Ring();
let switchedIn = null;
function run() {
  for (;;) {
    const t = ready.shift();
    if (t === undefined) break;
    if (switchedIn !== t) {
      if (EXCHANGE && switchedIn !== null) exchange(switchedIn, t);
      else i32[1] = t.idx;
      switchedIn = t;
    }
    const v = t.resumeValue;
    t.resumeValue = undefined;
    const r = generatorNext.call(t.iter, v);
    if (!r.done && r.value === t.token) {
      t.resumeValue = 0;
      ready.push(t);
    }
  }
  i32[1] = 0;
  switchedIn = null;
}

const box = { count: 0 };
function* player(f, k) {
  for (let i = 0; i < k; i++) {
    box.count++;
    yield f.yield();
  }
}
let nextIdx = 1;
function pingPong(n) {
  ready.push(new Fiber(nextIdx++, player, n / 2));
  ready.push(new Fiber(nextIdx++, player, n / 2));
  run();
}

/** @returns {Generator<number, never>} */
function* counter() {
  let i = 0;
  for (;;) yield i++;
}
const g = counter();
function raw(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += g.next().value;
  return s;
}
const resolved = Promise.resolve();
async function asyncPlayer(b, k) {
  for (let i = 0; i < k; i++) {
    b.count++;
    await resolved;
  }
}
async function asyncPingPong(n) {
  const b = { count: 0 };
  await Promise.all([asyncPlayer(b, n / 2), asyncPlayer(b, n / 2)]);
}

async function time(fn, n) {
  const t0 = performance.now();
  await fn(n);
  return ((performance.now() - t0) * 1e6) / n;
}
const N = 200_000;
for (let w = 0; w < 30; w++) {
  await time(pingPong, N);
  await time(raw, N);
  await time(asyncPingPong, N);
}
const p = [];
const r = [];
const a = [];
for (let s = 0; s < 15; s++) {
  p.push(await time(pingPong, N));
  r.push(await time(raw, N));
  a.push(await time(asyncPingPong, N));
}
const median = (x) => x.sort((u, v) => u - v)[x.length >> 1];
const [mp, mr, ma] = [median(p), median(r), median(a)];
console.log(
  `stripped switch${EXCHANGE ? "" : " (no exchange)"}: ${mp.toFixed(1)} ns; raw generator round trip ${mr.toFixed(1)} ns (${(mp / mr).toFixed(2)}×); async/await ping-pong ${ma.toFixed(1)} ns (${(ma / mp).toFixed(2)}× the switch)`,
);
if (box.count !== 45 * N) throw new Error(`the players yielded ${box.count} times, expected ${45 * N}`);
