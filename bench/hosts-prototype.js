// The transition pair's floor with several hosts in one process, for three designs of the door's
// fast path (a stripped ReverseEnter + ReverseLeave on a task slot: control word, depth, limit,
// frame buffer, a u32 counter; no RULES lookup, no slow path), each beside two empty wasm calls in
// the same process. What bench/README.md compares the library's N-host pair with.
//
//   node bench/hosts-prototype.js [closures|per-map|fields|one-memory] [hosts]
//
// closures:   each host's door makes its own closures over constant views of its own memory (the
//             library's one-host path): a call site that sees two hosts sees two closures.
// per-map:    each door of a class of its own, its closures on its prototype: up to four doors,
//             a call site inlines each polymorphically (past two, the dispatch costs more).
// fields:     one function for every door, reading the door's view from a field (the library's
//             path once a second host exists): monomorphic, but each access loads the view.
// one-memory: one process-wide memory and one constant view; each host is a base in it, and its
//             current slot and control word are in that memory at its base: one function, and the
//             view folded in as with the closures (the design; the core cannot place
//             several instances in one memory today, see the README).

import { EMPTY_WASM } from "./floor.js";

const design = process.argv[2] ?? "one-memory";
const HOSTS = Number(process.argv[3] ?? 2);
const N = 2_000_000;
const ROUNDS = 15;

// Layout (i32 units from a host's base): 0 control word, 1 current slot's base; a slot: 0 depth,
// 1 limit, 2 frame buffer (i32 units), 3 the ReverseEnter counter, 4 the ReverseLeave counter.
const HOST_WORDS = 4096;
function initHost(i32, h) {
  const slot = h + 16;
  i32[h] = 0;
  i32[h + 1] = slot;
  i32[slot + 1] = 64;
  i32[slot + 2] = h + 64;
}

function closureDoor(i32, h) {
  return {
    reverseEnter: () => {
      const b = i32[h + 1];
      const depth = i32[b];
      if (i32[h] === 0 && depth < i32[b + 1]) {
        const n = (i32[b + 3] + 1) | 0;
        if (n !== 0) {
          i32[i32[b + 2] + (depth << 1)] = 2;
          i32[b] = depth + 1;
          i32[b + 3] = n;
          return 0;
        }
      }
      throw new Error("no slow path");
    },
    reverseLeave: () => {
      const b = i32[h + 1];
      const depth = i32[b];
      if (i32[h] === 0 && depth > 0 && i32[i32[b + 2] + ((depth - 1) << 1)] === 2) {
        const n = (i32[b + 4] + 1) | 0;
        if (n !== 0) {
          i32[b] = depth - 1;
          i32[b + 4] = n;
          return 0;
        }
      }
      throw new Error("no slow path");
    },
  };
}

class FieldDoor {
  constructor(i32, h) {
    this.i32 = i32;
    this.h = h;
  }
  reverseEnter() {
    const i32 = this.i32;
    const h = this.h;
    const b = i32[h + 1];
    const depth = i32[b];
    if (i32[h] === 0 && depth < i32[b + 1]) {
      const n = (i32[b + 3] + 1) | 0;
      if (n !== 0) {
        i32[i32[b + 2] + (depth << 1)] = 2;
        i32[b] = depth + 1;
        i32[b + 3] = n;
        return 0;
      }
    }
    throw new Error("no slow path");
  }
  reverseLeave() {
    const i32 = this.i32;
    const h = this.h;
    const b = i32[h + 1];
    const depth = i32[b];
    if (i32[h] === 0 && depth > 0 && i32[i32[b + 2] + ((depth - 1) << 1)] === 2) {
      const n = (i32[b + 4] + 1) | 0;
      if (n !== 0) {
        i32[b] = depth - 1;
        i32[b + 4] = n;
        return 0;
      }
    }
    throw new Error("no slow path");
  }
}

// One memory for the process: its view is a module constant, as a closure's would be.
const shared = new WebAssembly.Memory({ initial: 16 });
const SHARED = new Int32Array(shared.buffer);
class OneMemoryDoor {
  constructor(h) {
    this.h = h;
  }
  reverseEnter() {
    const i32 = SHARED;
    const h = this.h;
    const b = i32[h + 1];
    const depth = i32[b];
    if (i32[h] === 0 && depth < i32[b + 1]) {
      const n = (i32[b + 3] + 1) | 0;
      if (n !== 0) {
        i32[i32[b + 2] + (depth << 1)] = 2;
        i32[b] = depth + 1;
        i32[b + 3] = n;
        return 0;
      }
    }
    throw new Error("no slow path");
  }
  reverseLeave() {
    const i32 = SHARED;
    const h = this.h;
    const b = i32[h + 1];
    const depth = i32[b];
    if (i32[h] === 0 && depth > 0 && i32[i32[b + 2] + ((depth - 1) << 1)] === 2) {
      const n = (i32[b + 4] + 1) | 0;
      if (n !== 0) {
        i32[b] = depth - 1;
        i32[b + 4] = n;
        return 0;
      }
    }
    throw new Error("no slow path");
  }
}

// per-map: each door is an object of a class of its own whose prototype holds this door's
// closures (over constant views, as the closures design): a call site seeing up to four doors
// sees up to four maps, each with a constant method, which V8 inlines polymorphically.
function perMapDoor(i32, h) {
  const c = closureDoor(i32, h);
  const Door = class {};
  Door.prototype.reverseEnter = c.reverseEnter;
  Door.prototype.reverseLeave = c.reverseLeave;
  return new Door();
}

const doors = [];
for (let k = 0; k < HOSTS; k++) {
  if (design === "one-memory") {
    initHost(SHARED, k * HOST_WORDS);
    doors.push(new OneMemoryDoor(k * HOST_WORDS));
  } else {
    const i32 = new Int32Array(new WebAssembly.Memory({ initial: 16 }).buffer);
    initHost(i32, 0);
    doors.push(
      design === "closures" ? closureDoor(i32, 0) : design === "per-map" ? perMapDoor(i32, 0) : new FieldDoor(i32, 0),
    );
  }
}
// The host's TaskManager: one class, whose methods are the one call site every host goes through.
class TaskManager {
  constructor(door) {
    this.door = door;
  }
  reverseEnterRuntime() {
    return this.door.reverseEnter();
  }
  reverseLeaveRuntime() {
    return this.door.reverseLeave();
  }
}
const tms = doors.map((d) => new TaskManager(d));
function pairs(tm, n) {
  let s = 0;
  for (let i = 0; i < n; i++) {
    s += tm.reverseEnterRuntime();
    s += tm.reverseLeaveRuntime();
  }
  return s;
}
const f = /** @type {() => void} */ (new WebAssembly.Instance(new WebAssembly.Module(EMPTY_WASM)).exports.f);
function wasm(n) {
  for (let i = 0; i < n; i++) {
    f();
    f();
  }
}
for (const tm of tms) pairs(tm, 1000);
const P = [];
const W = [];
let turn = 0;
for (let r = 0; r < ROUNDS; r++) {
  turn = (turn + 1) % tms.length;
  let t = process.hrtime.bigint();
  if (pairs(tms[turn], N) !== 0) throw new Error("a pair failed");
  P.push(Number(process.hrtime.bigint() - t) / N);
  t = process.hrtime.bigint();
  wasm(N);
  W.push(Number(process.hrtime.bigint() - t) / N);
}
const median = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
console.log(
  JSON.stringify({
    design,
    hosts: HOSTS,
    pair: +median(P).toFixed(2),
    wasm2: +median(W).toFixed(2),
    ratio: +(median(P) / median(W)).toFixed(3),
  }),
);
