// The board of the demo across workers (the page's thread control): one SharedArrayBuffer in which
// each worker's share writes what the page shows of it (its fibers' counts, and a few lanes of its
// fibers' states), and the page writes its requests (spawn more, stop). A worker's Task objects
// cannot cross threads; their states can, as numbers. Each word has one writer: the page reads
// words a worker writes, and a worker reads the page's; Atomics order the two sides.

import type { Task } from "../task/task.js";
import type { FiberStatus } from "./scenario.js";

/** Lanes a worker's share samples (the page shows them under the worker's name). */
export const BOARD_LANES = 12;

/**
 * What a lane shows, by code (0: no fiber in the lane): the order of web/lanes.ts's STATUSES, whose
 * waits are told apart by the mode the fiber waits in.
 */
export const LANE_STATUSES = [
  null,
  "done",
  "managed",
  "unmanaged",
  "waitingManaged",
  "waitingUnmanaged",
  "held",
] as const;
/** A sample where a new fiber took the lane (drawn as a notch). */
export const NEW_FIBER = 255;

/** The words of a worker's row (then its lanes' codes, then their fibers' numbers). */
export const enum Word {
  /** The page: 1 asks the share to stop. */
  STOP = 0,
  /** The page adds fibers to spawn; the share takes them. */
  SPAWN = 1,
  THREAD = 2,
  SPAWNED = 3,
  ENDED = 4,
  FINISHED = 5,
  ABORTED = 6,
  FAILED = 7,
  BLOCKED = 8,
  HELD = 9,
  REQUESTS = 10,
  /** The share's samples so far (the page draws a column per new sample). */
  SAMPLES = 11,
  LANES = 16,
}
const ROW = Word.LANES + 2 * BOARD_LANES;

/** A board for `workers` workers' shares. */
export function makeBoard(workers: number): SharedArrayBuffer {
  return new SharedArrayBuffer(workers * ROW * 4);
}

/** One worker's row of a board. */
export class BoardRow {
  readonly #words: Int32Array;
  readonly #at: number;

  constructor(board: SharedArrayBuffer, index: number) {
    this.#words = new Int32Array(board);
    this.#at = index * ROW;
  }

  get(word: Word): number {
    return Atomics.load(this.#words, this.#at + word);
  }
  set(word: Word, value: number): void {
    Atomics.store(this.#words, this.#at + word, value);
  }
  add(word: Word, n: number): void {
    Atomics.add(this.#words, this.#at + word, n);
  }
  /** Takes what the page put in `word` (the spawn requests), leaving 0. */
  take(word: Word): number {
    return Atomics.exchange(this.#words, this.#at + word, 0);
  }
  /** Lane `i`'s code (LANE_STATUSES's index, or NEW_FIBER) and its fiber's number (−1: none yet). */
  lane(i: number): { code: number; fiber: number } {
    return {
      code: Atomics.load(this.#words, this.#at + Word.LANES + i),
      fiber: Atomics.load(this.#words, this.#at + Word.LANES + BOARD_LANES + i) - 1,
    };
  }
  setLane(i: number, code: number, fiber: number): void {
    Atomics.store(this.#words, this.#at + Word.LANES + i, code);
    Atomics.store(this.#words, this.#at + Word.LANES + BOARD_LANES + i, fiber + 1);
  }
}

/** The worker's side of its lanes: which of its live fibers each lane follows (Lanes.sample's rule). */
export class LaneSampler {
  readonly #slots: (Task | null)[] = new Array(BOARD_LANES).fill(null);
  readonly #assigned = new Set<Task>();

  /** Writes a sample of every lane: a lane whose fiber ended takes the next live one. */
  sample(row: BoardRow, live: readonly Task[], status: (t: Task) => FiberStatus, number: (t: Task) => number): void {
    let cursor = 0;
    for (let i = 0; i < BOARD_LANES; i++) {
      let t = this.#slots[i] ?? null;
      let fresh = false;
      if (t === null || t.done) {
        let next: Task | null = null;
        while (cursor < live.length && next === null) {
          const candidate = live[cursor++]!;
          if (!this.#assigned.has(candidate)) next = candidate;
        }
        if (next !== null) {
          if (t) this.#assigned.delete(t);
          this.#assigned.add(next);
          this.#slots[i] = t = next;
          fresh = true;
        }
      }
      const code = fresh ? NEW_FIBER : t === null ? 0 : laneCode(t, status(t));
      row.setLane(i, code, t === null ? -1 : number(t));
    }
    row.add(Word.SAMPLES, 1);
  }
}

function laneCode(t: Task, status: FiberStatus): number {
  const lane = status !== "waiting" ? status : t.mode === "managed" ? "waitingManaged" : "waitingUnmanaged";
  return LANE_STATUSES.indexOf(lane);
}
