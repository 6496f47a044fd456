// The parked fiber's floor on Node 20 (no pointer compression: every field 8 bytes): a million
// generators parked in a `yield*` of a wait, with the least a scheduler must keep beside each, in
// one process each. What bench/README.md ("Where the memory goes: a parked fiber") compares the
// library's parked fiber with. Whole-process RSS, and the JS heap per fiber.
//
//   node --expose-gc bench/parked-prototype.js [bare|record|record+f] [N]
//
// bare:      the generator alone (its object, 80 B, and its register file), in an array
// record:    plus a record of 8 fields (the generator, the wait, two queue links, the state bits,
//            the core's handle, an id, the host): 88 B, and the waiter queue threaded through it
// record+f:  plus a context object per fiber that the body keeps (`function* (f)`): 32 B

const mode = process.argv[2] ?? "record";
const N = Number(process.argv[3] ?? 1_000_000);
const MB = 2 ** 20;

// The wait's face: a `yield*` delegates to it; its next() parks (answers not done).
const PARKED = { value: 0, done: false };
const face = {
  next() {
    return PARKED;
  },
  [Symbol.iterator]() {
    return this;
  },
};
const ev = {
  wait() {
    return face;
  },
};

class Record {
  constructor(id, host) {
    this.iter = null;
    this.waitOn = null;
    this.next = null;
    this.prev = null;
    this.bits = 0;
    this.handle = id; // slot index and generation in one integer
    this.id = id;
    this.host = host;
  }
}
class Context {
  constructor(task) {
    this.task = task;
  }
}

let woke = 0;
function* bodyEv() {
  if ((yield* ev.wait()) === 0) woke++;
}
function* bodyF(f) {
  if ((yield* f.task.host.wait(f)) === 0) woke++;
}
const host = { wait: () => face };

globalThis.gc?.();
const rss0 = process.memoryUsage().rss;
const heap0 = process.memoryUsage().heapUsed;
const keep = [];
let head = null;
for (let i = 0; i < N; i++) {
  if (mode === "bare") {
    const g = bodyEv();
    g.next();
    keep.push(g);
    continue;
  }
  const r = new Record(i, host);
  const g = mode === "record+f" ? bodyF(new Context(r)) : bodyEv();
  r.iter = g;
  r.waitOn = ev;
  r.next = head; // the event's waiter queue, threaded through the records
  if (head !== null) head.prev = r;
  head = r;
  g.next();
}
globalThis.gc?.();
const m = process.memoryUsage();
console.log(
  JSON.stringify({
    mode,
    N,
    "RSS before (MB)": +(rss0 / MB).toFixed(1),
    "RSS parked, whole process (MB)": +(m.rss / MB).toFixed(1),
    "JS heap per fiber (B)": +((m.heapUsed - heap0) / N).toFixed(1),
    check: mode === "bare" ? keep.length : count(head),
    woke, // (0: they stay parked; the bodies have the library's bench's shape, a test and a count)
  }),
);
void keep.length;
void head;
function count(r) {
  let n = 0;
  for (; r !== null; r = r.next) if (r.iter !== null) n++;
  return n;
}
