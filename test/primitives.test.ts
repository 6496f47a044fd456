// The scheduler's primitives against small models, with generated sequences of calls (fast-check):
// the ready ring (a FIFO with removal from the middle), the intrusive task queue (a task in at most
// one queue), and the timer heap (earliest deadline first, FIFO among equal deadlines, a task has at
// most one timer). Each is driven through its public methods only; after every call its answers,
// its size and what it holds are compared with the model's.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ReadyRing } from "../src/kernel/ring.js";
import { TaskQueue, type Queued } from "../src/kernel/queue.js";
import { TimerHeap, type Timed } from "../src/kernel/timers.js";
import { checkProperty, runs, timeLimit } from "./property/support.js";

import { Q_NEXT, Q_PREV } from "../src/kernel/queue.js";
import { TIMER_POS } from "../src/kernel/timers.js";
const IDS = 24; // few enough that removals and re-adds hit items that are there

function check<T>(property: fc.IProperty<[T]>, numRuns: number): void {
  checkProperty(property, runs(numRuns));
}

describe("ReadyRing", () => {
  type Cmd = { k: "push" | "unshift"; id: number } | { k: "shift" } | { k: "remove"; id: number };
  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ k: fc.constant("push" as const), id: fc.nat(IDS - 1) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("unshift" as const), id: fc.nat(IDS - 1) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant("shift" as const) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("remove" as const), id: fc.nat(IDS - 1) }) },
  );

  it("is a FIFO (unshift puts one at the front): shift answers what a list model answers, remove keeps the others' order, through growth and the positions' wrap at 2^30", {
    timeout: timeLimit(),
  }, () => {
    // Positions from 0, or just below 2^30 (where they wrap: a switch counted past 2^31 would
    // otherwise have left the small-integer range).
    const start = fc.oneof(fc.constant(0), fc.integer({ min: 2 ** 30 - 400, max: 2 ** 30 - 1 }));
    check(
      fc.property(fc.tuple(start, fc.array(cmd, { maxLength: 300 })), ([from, cmds]) => {
        const ring = new ReadyRing(from);
        const model: number[] = [];
        for (const c of cmds) {
          if (c.k === "push") {
            ring.push(c.id);
            model.push(c.id);
          } else if (c.k === "unshift") {
            ring.unshift(c.id);
            model.unshift(c.id);
          } else if (c.k === "shift") {
            expect(ring.shift()).toBe(model.shift() ?? -1);
          } else {
            const at = model.indexOf(c.id);
            if (at >= 0) model.splice(at, 1);
            expect(ring.remove(c.id)).toBe(at >= 0);
          }
          expect(ring.size).toBe(model.length);
        }
        const drained: number[] = [];
        for (let x = ring.shift(); x !== -1; x = ring.shift()) drained.push(x);
        expect(drained).toEqual(model);
        expect(ring.size).toBe(0);
      }),
      300,
    );
  });

  it("after it has grown and emptied, it answers -1 and keeps working", () => {
    const ring = new ReadyRing();
    for (let i = 0; i < 100; i++) ring.push(i);
    for (let i = 0; i < 100; i++) expect(ring.shift()).toBe(i);
    expect(ring.shift()).toBe(-1);
    ring.push(7);
    expect(ring.remove(8)).toBe(false);
    expect(ring.shift()).toBe(7);
  });
});

describe("TaskQueue", () => {
  interface Item extends Queued {
    id: number;
  }
  type Cmd = { k: "push"; q: number; id: number } | { k: "shift"; q: number } | { k: "remove"; q: number; id: number };
  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ k: fc.constant("push" as const), q: fc.nat(1), id: fc.nat(IDS - 1) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant("shift" as const), q: fc.nat(1) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant("remove" as const), q: fc.nat(1), id: fc.nat(IDS - 1) }) },
  );

  it("two queues over one set of tasks: FIFO each, a task in at most one, remove of a task in no queue does nothing", {
    timeout: timeLimit(),
  }, () => {
    check(
      fc.property(fc.array(cmd, { maxLength: 300 }), (cmds) => {
        const items: Item[] = Array.from({ length: IDS }, (_, id) => ({ id, [Q_NEXT]: null, [Q_PREV]: null }));
        const queues = [new TaskQueue<Item>(), new TaskQueue<Item>()];
        const model: number[][] = [[], []];
        const where = (id: number): number => (model[0].includes(id) ? 0 : model[1].includes(id) ? 1 : -1);
        for (const c of cmds) {
          const q = queues[c.q];
          if (c.k === "push") {
            // As the scheduler does: a task joins a queue only when it is in none.
            if (where(c.id) !== -1) continue;
            q.push(items[c.id]);
            model[c.q].push(c.id);
          } else if (c.k === "shift") {
            const t = q.shift();
            expect(t?.id).toBe(model[c.q].shift());
            if (t) expect([t[Q_NEXT], t[Q_PREV]]).toEqual([null, null]);
          } else {
            // As the scheduler does: a task is taken out only by the queue it is in, if any.
            if (where(c.id) !== -1 && where(c.id) !== c.q) continue;
            q.remove(items[c.id]);
            const at = model[c.q].indexOf(c.id);
            if (at >= 0) model[c.q].splice(at, 1);
          }
          for (let k = 0; k < 2; k++) {
            expect(queues[k].size).toBe(model[k].length);
            expect(queues[k].toArray().map((t) => t.id)).toEqual(model[k]);
          }
          for (const it of items) if (where(it.id) === -1) expect([it[Q_NEXT], it[Q_PREV]]).toEqual([null, null]);
        }
      }),
      200,
    );
  });
});

describe("TimerHeap", () => {
  interface Task extends Timed {
    id: number;
  }
  type Cmd = { k: "add"; id: number; at: number } | { k: "cancel"; id: number } | { k: "popDue"; now: number };
  // Few distinct deadlines, so that ties (FIFO among equal deadlines) are common.
  const at = fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constant(Number.POSITIVE_INFINITY));
  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ k: fc.constant("add" as const), id: fc.nat(IDS - 1), at }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant("cancel" as const), id: fc.nat(IDS - 1) }) },
    { weight: 3, arbitrary: fc.record({ k: fc.constant("popDue" as const), now: fc.integer({ min: -1, max: 14 }) }) },
  );

  it("popDue answers the earliest due timer (FIFO among equal deadlines); one timer per task; cancel takes it out at once", {
    timeout: timeLimit(),
  }, () => {
    check(
      fc.property(fc.array(cmd, { maxLength: 300 }), (cmds) => {
        const tasks: Task[] = Array.from({ length: IDS }, (_, id) => ({ id, [TIMER_POS]: 0 }));
        const heap = new TimerHeap<Task>();
        // The model: live timers in the order they were (re)armed; the first minimum is the answer.
        let model: { id: number; at: number }[] = [];
        for (const c of cmds) {
          if (c.k === "add") {
            heap.add(tasks[c.id], c.at);
            model = model.filter((e) => e.id !== c.id);
            model.push({ id: c.id, at: c.at });
          } else if (c.k === "cancel") {
            heap.cancel(tasks[c.id]);
            model = model.filter((e) => e.id !== c.id);
          } else {
            let first: { id: number; at: number } | undefined;
            for (const e of model) if (!first || e.at < first.at) first = e;
            const due = first && first.at <= c.now ? first : undefined;
            expect(heap.popDue(c.now)?.id).toBe(due?.id);
            if (due) model = model.filter((e) => e !== due);
          }
          expect(heap.size).toBe(model.length);
          expect(heap.next()).toBe(model.reduce((m, e) => Math.min(m, e.at), Number.POSITIVE_INFINITY));
          for (const t of tasks)
            expect(t[TIMER_POS] !== 0, `task ${t.id} has a timer`).toBe(model.some((e) => e.id === t.id));
        }
        // Draining in time order gives every live timer once, earliest first, FIFO among ties.
        const order = model
          .map((e, i) => ({ ...e, i }))
          .sort((a, b) => a.at - b.at || a.i - b.i)
          .filter((e) => e.at !== Number.POSITIVE_INFINITY)
          .map((e) => e.id);
        const drained: number[] = [];
        for (let t = heap.popDue(Number.MAX_VALUE); t; t = heap.popDue(Number.MAX_VALUE)) drained.push(t.id);
        expect(drained).toEqual(order);
      }),
      300,
    );
  });
});
