// The coordination block: the words the threads of one shared runtime use to reach each other,
// beside the core's memory (the core holds the tasks; this holds what the host layer adds across
// threads: doorbells, the suspension's acknowledgements, mailboxes, the shared sync objects and the
// wait graph). One SharedArrayBuffer, posted to every worker with the core's memory.
//
// A thread is woken by its doorbell: a word any thread bumps (Atomics.add) and notifies; the
// thread waits on it with Atomics.waitAsync between pumps and, when it rings, rechecks everything
// it waits on (its mailbox, the suspension, its waiters on shared objects and remote tasks). A
// doorbell is level-triggered: a ring says "look again", so rings may merge and none is lost.

/** Threads per runtime: a u32 bitmask of them marks who waits on an object. */
export const MAX_THREADS = 32;
/** Mailbox entries per thread: requests another thread makes of this one's tasks (an abort). */
const MAILBOX = 64;
const ENTRY = 4;
/** Shared sync objects per runtime (ids are not reused: a closed object keeps its record). */
export const MAX_OBJECTS = 4096;
/** Tasks that may wait at once on a shared Crst or a remote join (the wait graph's edges). */
export const MAX_EDGES = 1024;

// The global words.
const G_SUSPEND_EPOCH = 0; // bumped by every suspension that answered S_OK
const G_ACK_BELL = 1; // bumped (and notified) by every acknowledgement and reaped thread
const G_ALIVE = 2; // threads attached and not reaped: bit t
const G_EXIT_WATCH = 3; // threads with a join of a task of another thread pending: bit t
const G_LOCK = 4; // the lock of the objects' ownership and the wait graph (a spin lock: held for a few loads)
const G_NEXT_OBJECT = 5;
const G_DISABLED = 6; // 1 once a thread saw the runtime disabled and told the others
const GLOBALS = 16;

// A thread's words.
const T_BELL = 0;
const T_ACKED = 1; // the suspension epoch it last acknowledged
const T_MB_LOCK = 2;
const T_MB_HEAD = 3;
const T_MB_TAIL = 4;
const T_MAILBOX = 8;
const THREAD_WORDS = T_MAILBOX + MAILBOX * ENTRY;

// A shared object's words.
export const O_KIND = 0; // ObjectKind
export const O_STATE = 1; // an event: 1 signalled; a semaphore: its count
export const O_MAX = 2; // a semaphore's maximum
export const O_OWNER_IDX = 3; // a Crst's owner: slot index + 1 (0: none), generation, thread
export const O_OWNER_GEN = 4;
export const O_OWNER_THREAD = 5;
export const O_RECURSION = 6;
export const O_WAITERS = 7; // threads with a fiber waiting on it: bit t
export const O_CLOSED = 8;
export const O_ABANDONS = 9; // bumped when its owner ends owning it: its waiters then get HOST_E_ABANDONED
const OBJECT_WORDS = 10;

// A wait-graph edge: a task waits for a Crst (whoever owns it) or for a task of another thread.
const E_IDX = 0; // the waiting task's slot index + 1 (0: a free entry)
const E_GEN = 1;
const E_KIND = 2; // EDGE_CRST: E_A is the object id; EDGE_JOIN: E_A, E_B the joined task's idx, gen
const E_A = 3;
const E_B = 4;
const EDGE_WORDS = 5;
export const EDGE_CRST = 1;
export const EDGE_JOIN = 2;

/** A task as the coordination block names it: its thread, slot index and generation. */
export interface SlotHandle {
  readonly thread: number;
  readonly idx: number;
  readonly gen: number;
}

export const enum ObjectKind {
  AutoEvent = 1,
  ManualEvent = 2,
  Semaphore = 3,
  Crst = 4,
}

/** Mailbox requests. */
export const enum Request {
  Abort = 1,
  RudeAbort = 2,
}

const THREADS_AT = GLOBALS;
const OBJECTS_AT = THREADS_AT + MAX_THREADS * THREAD_WORDS;
const EDGES_AT = OBJECTS_AT + MAX_OBJECTS * OBJECT_WORDS;
/** Bytes of a coordination block. */
export const COORD_BYTES = (EDGES_AT + MAX_EDGES * EDGE_WORDS) * 4;

export class Coord {
  readonly words: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
  }

  private thread(t: number): number {
    return THREADS_AT + t * THREAD_WORDS;
  }

  // --- doorbells -------------------------------------------------------------------------------

  /** Where thread t's doorbell is (for its Atomics.waitAsync). */
  bellAt(t: number): number {
    return this.thread(t) + T_BELL;
  }

  /** Rings thread t: it looks again at what it waits on. */
  ring(t: number): void {
    const at = this.bellAt(t);
    Atomics.add(this.words, at, 1);
    Atomics.notify(this.words, at);
  }

  /** Rings every thread in `mask`. */
  ringAll(mask: number): void {
    for (let m = mask >>> 0; m !== 0; m &= m - 1) this.ring(31 - Math.clz32(m & -m));
  }

  // --- the threads alive, and the suspension's handshake ----------------------------------------

  get alive(): number {
    return Atomics.load(this.words, G_ALIVE) >>> 0;
  }
  setAlive(t: number, on: boolean): void {
    if (on) Atomics.or(this.words, G_ALIVE, 1 << t);
    else Atomics.and(this.words, G_ALIVE, ~(1 << t));
    this.bumpAcks();
  }

  /** A suspension answered S_OK: its epoch (every live thread acknowledges it at its next safe point). */
  nextEpoch(): number {
    return Atomics.add(this.words, G_SUSPEND_EPOCH, 1) + 1;
  }
  get epoch(): number {
    return Atomics.load(this.words, G_SUSPEND_EPOCH);
  }

  /** Thread t reached a safe point with the runtime suspended at `epoch`. */
  acknowledge(t: number, epoch: number): void {
    Atomics.store(this.words, this.thread(t) + T_ACKED, epoch);
    this.bumpAcks();
  }

  private bumpAcks(): void {
    Atomics.add(this.words, G_ACK_BELL, 1);
    Atomics.notify(this.words, G_ACK_BELL);
  }
  get ackBellAt(): number {
    return G_ACK_BELL;
  }

  /** The live threads that have not acknowledged `epoch` yet (0: every one has). */
  unacknowledged(epoch: number): number {
    let pending = 0;
    for (let m = this.alive; m !== 0; m &= m - 1) {
      const t = 31 - Math.clz32(m & -m);
      if (Atomics.load(this.words, this.thread(t) + T_ACKED) < epoch) pending |= 1 << t;
    }
    return pending;
  }

  // --- joins across threads ----------------------------------------------------------------------

  watchExits(t: number, on: boolean): void {
    if (on) Atomics.or(this.words, G_EXIT_WATCH, 1 << t);
    else Atomics.and(this.words, G_EXIT_WATCH, ~(1 << t));
  }
  /** A task ended: the threads that join a task of another thread look again. A plain read first (the common case: none). */
  taskEnded(): void {
    if (this.words[G_EXIT_WATCH] === 0) return;
    this.ringAll(Atomics.load(this.words, G_EXIT_WATCH));
  }

  /** Marks the runtime disabled for every thread; true for the first thread that does. */
  markDisabled(): boolean {
    return Atomics.compareExchange(this.words, G_DISABLED, 0, 1) === 0;
  }

  // --- mailboxes ---------------------------------------------------------------------------------

  /** Posts a request to thread t and rings it; false when its mailbox is full. */
  post(t: number, request: Request, idx: number, gen: number): boolean {
    const base = this.thread(t);
    this.spin(base + T_MB_LOCK);
    try {
      const head = this.words[base + T_MB_HEAD];
      const tail = this.words[base + T_MB_TAIL];
      if (tail - head >= MAILBOX) return false;
      const at = base + T_MAILBOX + (tail % MAILBOX) * ENTRY;
      this.words[at] = request;
      this.words[at + 1] = idx;
      this.words[at + 2] = gen;
      this.words[base + T_MB_TAIL] = tail + 1;
    } finally {
      Atomics.store(this.words, base + T_MB_LOCK, 0);
    }
    this.ring(t);
    return true;
  }

  /** Takes thread t's requests, oldest first. */
  drain(t: number, each: (request: Request, idx: number, gen: number) => void): void {
    const base = this.thread(t);
    const taken: number[] = [];
    this.spin(base + T_MB_LOCK);
    try {
      const tail = this.words[base + T_MB_TAIL];
      for (let i = this.words[base + T_MB_HEAD]; i < tail; i++) {
        const at = base + T_MAILBOX + (i % MAILBOX) * ENTRY;
        taken.push(this.words[at], this.words[at + 1], this.words[at + 2]);
      }
      this.words[base + T_MB_HEAD] = tail;
    } finally {
      Atomics.store(this.words, base + T_MB_LOCK, 0);
    }
    for (let i = 0; i < taken.length; i += 3) each(taken[i] as Request, taken[i + 1]!, taken[i + 2]!);
  }

  // --- the lock --------------------------------------------------------------------------------

  /** A spin lock: held only for a few loads and stores, never across a wait. */
  private spin(at: number): void {
    while (Atomics.compareExchange(this.words, at, 0, 1) !== 0);
  }
  lock(): void {
    this.spin(G_LOCK);
  }
  unlock(): void {
    Atomics.store(this.words, G_LOCK, 0);
  }

  // --- shared objects ----------------------------------------------------------------------------

  /** A new object's id, or −1 when the runtime has made MAX_OBJECTS. */
  newObject(kind: ObjectKind, state: number, max: number): number {
    const id = Atomics.add(this.words, G_NEXT_OBJECT, 1);
    if (id >= MAX_OBJECTS) {
      Atomics.sub(this.words, G_NEXT_OBJECT, 1);
      return -1;
    }
    const at = OBJECTS_AT + id * OBJECT_WORDS;
    Atomics.store(this.words, at + O_STATE, state);
    Atomics.store(this.words, at + O_MAX, max);
    Atomics.store(this.words, at + O_KIND, kind); // last: an id whose kind is 0 is not made yet
    return id;
  }
  /** The word index of an object's field. */
  at(id: number, field: number): number {
    return OBJECTS_AT + id * OBJECT_WORDS + field;
  }
  kindOf(id: number): number {
    if (!(Number.isInteger(id) && id >= 0 && id < MAX_OBJECTS)) return 0;
    return Atomics.load(this.words, OBJECTS_AT + id * OBJECT_WORDS + O_KIND);
  }
  objectCount(): number {
    return Math.min(MAX_OBJECTS, Atomics.load(this.words, G_NEXT_OBJECT));
  }

  // --- the wait graph (under the lock) -----------------------------------------------------------

  /** Records that task (idx, gen) waits: an edge of `kind` to a (and b). −1 when the graph is full. */
  addEdge(idx: number, gen: number, kind: number, a: number, b: number): number {
    for (let e = 0; e < MAX_EDGES; e++) {
      const at = EDGES_AT + e * EDGE_WORDS;
      if (this.words[at + E_IDX] !== 0) continue;
      this.words[at + E_GEN] = gen;
      this.words[at + E_KIND] = kind;
      this.words[at + E_A] = a;
      this.words[at + E_B] = b;
      this.words[at + E_IDX] = idx + 1;
      return e;
    }
    return -1;
  }
  removeEdge(e: number): void {
    if (e >= 0) this.words[EDGES_AT + e * EDGE_WORDS + E_IDX] = 0;
  }

  /** Under the lock: a Crst's owner, or null. */
  crstOwner(id: number): SlotHandle | null {
    const at = OBJECTS_AT + id * OBJECT_WORDS;
    const idx1 = this.words[at + O_OWNER_IDX]!;
    if (idx1 === 0) return null;
    return { thread: this.words[at + O_OWNER_THREAD]!, idx: idx1 - 1, gen: this.words[at + O_OWNER_GEN]! };
  }

  /**
   * Under the lock: would task `self` waiting for task `first` close a cycle? Follows each task's
   * edge (a Crst to its owner, a join to its task) from `first`.
   */
  closesCycle(self: { idx: number; gen: number }, first: { idx: number; gen: number } | null): boolean {
    let t = first;
    for (let steps = 0; t !== null && steps <= MAX_EDGES; steps++) {
      if (t.idx === self.idx && t.gen === self.gen) return true;
      t = this.next(t);
    }
    return false;
  }

  private next(t: { idx: number; gen: number }): { idx: number; gen: number } | null {
    for (let e = 0; e < MAX_EDGES; e++) {
      const at = EDGES_AT + e * EDGE_WORDS;
      if (this.words[at + E_IDX] !== t.idx + 1 || this.words[at + E_GEN] !== t.gen) continue;
      const a = this.words[at + E_A]!;
      return this.words[at + E_KIND] === EDGE_CRST ? this.crstOwner(a) : { idx: a, gen: this.words[at + E_B]! };
    }
    return null;
  }
}

type WaitAsyncResult =
  | { async: false; value: "not-equal" | "timed-out" }
  | { async: true; value: Promise<"ok" | "timed-out"> };

/** Atomics.waitAsync (ES2024; Node >= 20, Chromium), typed here: the project's lib is ES2022. */
export function waitAsync(words: Int32Array, at: number, value: number, timeoutMs?: number): WaitAsyncResult {
  return (Atomics as unknown as { waitAsync: typeof waitAsync }).waitAsync(words, at, value, timeoutMs);
}

/** True where Atomics.waitAsync exists. */
export function hasWaitAsync(): boolean {
  return typeof (Atomics as { waitAsync?: unknown }).waitAsync === "function";
}
