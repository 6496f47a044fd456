// The lanes: one row per fiber (the first few dozen live ones), each a strip of its state over the
// last seconds. Every lane keeps a ring of samples; the canvas is repainted from them, a run of
// equal samples at a time.

import type { Task } from "../src/index.js";
import type { FiberStatus, Scenario } from "../src/demo/scenario.js";

export const LANES = 48;
const LANE_H = 12;
const GAP = 3;
const COL = 3; // px per sample

/** What a lane shows: a wait is drawn in a light shade of the mode the fiber waits in. */
export type LaneStatus = Exclude<FiberStatus, "waiting"> | "waitingManaged" | "waitingUnmanaged";
// Sample values: 0 is "no fiber in the lane" (background); the others index STATUSES.
const STATUSES: (LaneStatus | null)[] = [
  null,
  "done",
  "managed",
  "unmanaged",
  "waitingManaged",
  "waitingUnmanaged",
  "held",
];
const NEW_FIBER = 255; // a sample where a new fiber took the lane (drawn as a notch)
const BACKGROUND = "#fafbfc";

export const COLORS: Record<LaneStatus, string> = {
  managed: "#1f5fcf",
  unmanaged: "#2f9e57",
  waitingManaged: "#a9c5f5",
  waitingUnmanaged: "#b5e2c3",
  held: "#d64545",
  done: "#e4e7eb",
};

export class Lanes {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly slots: (Task | null)[] = new Array(LANES).fill(null);
  private readonly assigned = new Set<Task>();
  private readonly labels: HTMLElement[] = [];
  private readonly dpr = Math.max(1, Math.round(globalThis.devicePixelRatio || 1));
  private columns = 0;
  private history: Uint8Array[] = [];
  /** The ring's next column (the oldest sample). */
  private head = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    labelBox: HTMLElement,
    private readonly scenario: Scenario,
  ) {
    this.ctx = canvas.getContext("2d")!;
    for (let i = 0; i < LANES; i++) {
      const label = document.createElement("div");
      label.style.height = `${LANE_H}px`;
      label.style.marginBottom = `${GAP}px`;
      label.textContent = "—";
      label.title = "select this lane's fiber for Alert and Abort";
      label.onclick = () => this.select(i);
      labelBox.append(label);
      this.labels.push(label);
    }
    this.resize();
    addEventListener("resize", () => this.resize());
  }

  private resize(): void {
    const width = Math.max(200, Math.floor(this.canvas.parentElement!.clientWidth));
    const height = LANES * (LANE_H + GAP);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.canvas.width = width * this.dpr;
    this.canvas.height = height * this.dpr;
    this.ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const columns = Math.floor(width / COL);
    if (columns !== this.columns) {
      // Keep the newest samples (a screenshot or a window resize must not wipe the lanes).
      const old = this.history.map((ring) => this.ordered(ring));
      this.history = Array.from({ length: LANES }, (_, i) => {
        const ring = new Uint8Array(columns);
        const past = old[i];
        if (past) ring.set(past.subarray(Math.max(0, past.length - columns)), Math.max(0, columns - past.length));
        return ring;
      });
      this.columns = columns;
      this.head = 0;
    }
    this.paint();
  }

  private laneStatus(t: Task): LaneStatus {
    const status = this.scenario.status(t);
    if (status !== "waiting") return status;
    return t.mode === "managed" ? "waitingManaged" : "waitingUnmanaged";
  }

  /** A lane's samples, oldest first. */
  private ordered(ring: Uint8Array): Uint8Array {
    const out = new Uint8Array(ring.length);
    out.set(ring.subarray(this.head));
    out.set(ring.subarray(0, this.head), ring.length - this.head);
    return out;
  }

  /**
   * The fiber picked by a click on a lane's label: the fiber, not the lane (a lane shows another
   * fiber once this one ends: Alert and Abort must not move on to it).
   */
  private selected: Task | null = null;

  private select(lane: number): void {
    const t = this.slots[lane] ?? null;
    this.selected = t === null || t === this.selected || t.done ? null : t;
    this.markSelected();
  }

  /** The label of the selected fiber's lane is marked while the lane shows that fiber. */
  private markSelected(): void {
    this.labels.forEach((label, i) => {
      label.classList.toggle("selected", this.selected !== null && this.slots[i] === this.selected);
    });
  }

  /** The selected fiber (null: none), still selected after it has ended. */
  get selection(): Task | null {
    return this.selected;
  }

  /** Forgets the selection (its fiber ended, and the page said so). */
  unselect(): void {
    this.selected = null;
    this.markSelected();
  }

  /** The first live fiber in a lane: what Alert and Abort act on when no fiber is selected. */
  firstLive(): Task | null {
    for (let i = 0; i < LANES; i++) {
      const t = this.fiber(i);
      if (t) return t;
    }
    return null;
  }

  /** The fiber a lane shows (for the alert and abort controls). */
  fiber(lane: number): Task | null {
    const t = this.slots[lane];
    return t && !t.done ? t : null;
  }

  /** Takes one sample of every lane, and repaints. */
  sample(): void {
    const live = this.scenario.live;
    let cursor = 0;
    let moved = false;
    for (let i = 0; i < LANES; i++) {
      let t = this.slots[i] ?? null;
      let fresh = false;
      if (t === null || t.done) {
        let next: Task | null = null;
        while (cursor < live.length && next === null) {
          const candidate = live[cursor++]!;
          if (!this.assigned.has(candidate)) next = candidate;
        }
        if (next !== null) {
          if (t) this.assigned.delete(t);
          this.assigned.add(next);
          this.slots[i] = t = next;
          fresh = true;
          moved = true;
          this.labels[i]!.textContent = next.name;
          this.labels[i]!.classList.remove("ended");
        } else if (t) {
          // No fiber to take the lane (after a catastrophic failure, none ever will): it keeps
          // its last fiber's name, shown as ended.
          this.labels[i]!.classList.add("ended");
        }
      }
      this.history[i]![this.head] = fresh ? NEW_FIBER : t ? STATUSES.indexOf(this.laneStatus(t)) : 0;
    }
    if (moved) this.markSelected();
    this.head = (this.head + 1) % this.columns;
    this.paint();
  }

  private paint(): void {
    const ctx = this.ctx;
    const width = this.columns * COL;
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, this.canvas.width / this.dpr, this.canvas.height / this.dpr);
    for (let i = 0; i < LANES; i++) {
      const ring = this.history[i]!;
      const y = i * (LANE_H + GAP);
      let runStart = 0;
      let runValue = -1;
      const flush = (end: number): void => {
        if (runValue < 0 || runValue === 0) return; // nothing sampled, or nobody there: background
        ctx.fillStyle = runValue === NEW_FIBER ? BACKGROUND : COLORS[STATUSES[runValue]!];
        ctx.fillRect(width - (this.columns - runStart) * COL, y, (end - runStart) * COL, LANE_H);
      };
      for (let c = 0; c < this.columns; c++) {
        const v = ring[(this.head + c) % this.columns]!;
        if (v !== runValue) {
          flush(c);
          runStart = c;
          runValue = v;
        }
      }
      flush(this.columns);
    }
  }
}
