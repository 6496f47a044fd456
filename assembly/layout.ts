// Where everything lives in linear memory. The host layer reads these numbers from the
// exported globals at load time, so the layout is written down once, here.

/** One transition frame: i32 kind + u32 target (a LeaveRuntime's target; 0 for a reverse enter). */
export const FRAME_SIZE: i32 = 8;
export const FRAME_NONE: i32 = 0; // "top frame kind" of an empty stack
export const FRAME_LEAVE: i32 = 1; // LeaveRuntime: the task runs unmanaged code
export const FRAME_REVERSE: i32 = 2; // ReverseEnterRuntime: the task runs managed code

// The four transitions, in the order of their counters.
export const OP_LEAVE: i32 = 0;
export const OP_ENTER: i32 = 1;
export const OP_REVERSE_ENTER: i32 = 2;
export const OP_REVERSE_LEAVE: i32 = 3;

// What a transition does, given the kind of the top frame (see RULES in transitions.ts).
export const ACT_INVALID: i32 = 0;
export const ACT_PUSH_LEAVE: i32 = FRAME_LEAVE;
export const ACT_PUSH_REVERSE: i32 = FRAME_REVERSE;
export const ACT_POP: i32 = 3;

// Counters: per task as u32 low words in the slot, whose high words (carries past 2^32) live in the
// task's side record, made the first time one is needed; in total, f64 in the header (exact up
// to 2^53). A transition writes one 32-bit word: 64-bit counters in every slot took 56 bytes of a
// parked fiber's 120.
export const C_LEAVE: i32 = 0;
export const C_ENTER: i32 = 1;
export const C_REVERSE_ENTER: i32 = 2;
export const C_REVERSE_LEAVE: i32 = 3;
export const C_UNMATCHED_REVERSE_ENTER: i32 = 4;
export const C_SWITCH_IN: i32 = 5;
export const C_SWITCH_OUT: i32 = 6;
export const COUNTER_COUNT: i32 = 7;

// A task slot: i32 fields by index, the counters' low words last (from field T_COUNTERS). A slot
// holds only what a task needs all its life or on the hot paths; what few tasks ever set (its
// identifier, priority, nesting counts, counters' high words) is in its side record (X_*).
export const T_GEN: i32 = 0; // generation: bumped when the slot is freed, so old handles go stale
export const T_STATE: i32 = 1; // STATE_* in the low byte; the FLAG_* bits above it (T_FLAGS is this word)
export const T_FLAGS: i32 = 1;
export const T_DEPTH: i32 = 2; // open frames
export const T_LIMIT: i32 = 3; // min(capacity, reservation): a push below it needs no check
export const T_CAPACITY: i32 = 4; // frames the buffer holds
export const T_FRAMES: i32 = 5; // byte address of the frame buffer (0: none yet)
export const T_RESERVE: i32 = 6; // frames the task may hold at most (its stack size / FRAME_SIZE)
export const T_NEXT_FREE: i32 = 6; // while the slot is free (its reservation is set again when reused)
export const T_SIDE: i32 = 7; // byte address of the side record (0: none yet)
export const T_COUNTERS: i32 = 8; // field index of the counters' low words
export const SLOT_SIZE: i32 = (T_COUNTERS + COUNTER_COUNT) * 4; // 60 bytes

// A task's side record (i32 fields by index): made by the first call that sets one of these, kept
// while the slot holds the task's counters (until the slot is reused) when a high word is set.
// It is a frame buffer of class 1 (heap.ts), so it comes from and goes back to the same free lists.
export const X_HIGH: i32 = 0; // the counters' high words, COUNTER_COUNT of them
export const X_ID_LO: i32 = 7;
export const X_ID_HI: i32 = 8;
export const X_AFFINITY: i32 = 9;
export const X_PREVENT_ABORT: i32 = 10;
export const X_LOCKS: i32 = 11;
export const X_PRIORITY: i32 = 12;
export const SIDE_FIELDS: i32 = 13;
export const SIDE_CLASS: i32 = 1; // the frame-buffer class that holds SIDE_FIELDS words (8 frames, 64 bytes)

export const STATE_FREE: i32 = 0;
export const STATE_CREATED: i32 = 1; // CreateTask returns a suspended task
export const STATE_STARTED: i32 = 2;
export const STATE_MASK: i32 = 255; // the state's bits of the T_STATE word

// The flags share the state's word, above its low byte.
export const FLAG_DELAY_ABORT: i32 = 256;
export const FLAG_ALERTED: i32 = 512;
export const FLAG_YIELD_REQUESTED: i32 = 1024;
export const FLAG_ABORT_REQUESTED: i32 = 2048;
export const FLAG_RUDE_ABORT: i32 = 4096;
export const FLAG_SELF_ABORT: i32 = 8192; // the task asked for its own abort: delay regions do not hold it
// An abort was delivered and not reset (ResetAbort): it stays deliverable, raised again at every
// safe point a region does not hold, as the CLR re-raises a ThreadAbortException until ResetAbort.
export const FLAG_ABORT_DELIVERED: i32 = 16384;

// The header: i32 fields by index, then the totals as sumTotals() last computed them (byte offset
// H_TOTALS). What other threads touch at any time (H_CTL, H_YIELD_REQUESTS, H_TRACE_COUNT,
// H_THREADS, H_CHUNKS) changes by atomics in the shared build; the allocator's words (H_HEAP_TOP,
// H_FREED_SINCE_MERGE, the chunk and free-list tables) only under the lock H_LOCK (heap.ts).
export const H_CTL: i32 = 0; // CTL_* bits; 0 means "the common case": transitions may take the fast path
export const H_HEAP_TOP: i32 = 1; // the bump allocator's top (in memory: every thread's instance moves it)
export const H_LOCK: i32 = 2; // the allocator's lock: 0 free, else the holding thread + 1 (shared build)
export const H_THREADS: i32 = 3; // thread records claimed (init claims thread 0, attach() the next)
export const H_CHUNKS: i32 = 4; // slot chunks made: every index below H_CHUNKS << CHUNK_SHIFT lies in one
export const H_DEFAULT_RESERVE: i32 = 5;
export const H_MAX_STACK: i32 = 6; // bytes
export const H_TRACE_BASE: i32 = 7;
export const H_TRACE_CAPACITY: i32 = 8;
export const H_TRACE_COUNT: i32 = 9; // events ever written (the ring keeps the last capacity ones)
export const H_YIELD_REQUESTS: i32 = 10; // tasks with a yield request not yet honoured
export const H_TRACE_CLASS: i32 = 11; // the ring's size class (heap.ts); meaningful while H_TRACE_BASE != 0
export const H_FREED_SINCE_MERGE: i32 = 12; // 1 when a buffer was freed since the last mergeFree()
export const H_TOTALS: i32 = 64;
export const HEADER_SIZE: i32 = H_TOTALS + COUNTER_COUNT * 8;

// Per-thread records (a thread: one instance of the core over the memory; the plain build has
// thread 0 only): MAX_THREADS of them in a fixed area after the free lists, i32 fields by index,
// then the summed counters of the thread's ended tasks (byte offset R_RETIRED, f64). A record is
// written by its own thread only, but for reapThread() once the thread is dead.
export const MAX_THREADS: i32 = 32;
export const R_CURRENT: i32 = 0; // slot index of the task switched in on this thread (its root task: none is)
export const R_ROOT: i32 = 1; // slot index of the thread's root task
export const R_FREE_HEAD: i32 = 2; // first free slot of the thread's own chunks + 1 (0: none)
export const R_LIVE: i32 = 3; // live tasks in the thread's chunks
export const R_NEXT_SLOT: i32 = 4; // the next never-handed slot of the thread's current chunk
export const R_SLOT_END: i32 = 5; // the end of that chunk (R_NEXT_SLOT == R_SLOT_END: none left)
export const R_IDLE_BUFFERS: i32 = 6; // free slots of the thread's that keep a frame buffer (frames.ts)
export const R_STATE: i32 = 7; // THREAD_*
export const R_RETIRED: i32 = 32; // byte offset of the ended tasks' summed counters (8-aligned)
export const THREAD_SIZE: i32 = R_RETIRED + COUNTER_COUNT * 8;
export const THREAD_UNUSED: i32 = 0;
export const THREAD_ATTACHED: i32 = 1;
export const THREAD_REAPED: i32 = 2; // reapThread(): its worker is gone, its tasks ended

export const CTL_NOT_STARTED: i32 = 1;
export const CTL_DISABLED: i32 = 2;
export const CTL_SUSPENDED: i32 = 4;
export const CTL_TRACING: i32 = 8;
export const CTL_TRAP_ARMED: i32 = 16;
export const CTL_YIELD_PENDING: i32 = 32; // some task has a yield request: transitions honour it in the core

export const RUNTIME_NOT_STARTED: i32 = 0;
export const RUNTIME_STARTED: i32 = 1;
export const RUNTIME_DISABLED: i32 = 2;

// Slots live in chunks that never move, so a slot's address is stable for the host to cache.
export const CHUNK_SHIFT: i32 = 10;
export const CHUNK_SLOTS: i32 = 1 << CHUNK_SHIFT;
export const MAX_CHUNKS: i32 = 8192; // 8M tasks

/** One trace event: f64 time, i32 kind, i32 task slot, i32 generation, i32 argument. */
export const TRACE_EVENT_SIZE: i32 = 24;
export const EV_TRANSITION: i32 = 0; // + op (0..3) => kinds 0..3
export const EV_SWITCH_IN: i32 = 4;
export const EV_SWITCH_OUT: i32 = 5;
export const EV_WAIT: i32 = 6;
export const EV_WAKE: i32 = 7;
export const EV_EXIT: i32 = 8;
export const EV_ABORT: i32 = 9; // ICLRTask::Abort / RudeAbort requested (argument: 1 when rude)
export const EV_ABORT_DELIVERED: i32 = 10; // the host delivered a requested abort into the task
export const EV_FAILED: i32 = 11; // + op (0..3) => kinds 11..14: a refused transition (argument: its HRESULT)
