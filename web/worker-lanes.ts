// The lanes across workers: a group per worker (its name, then BOARD_LANES lanes), each lane a strip
// of its fiber's state over the last seconds, as the worker's share wrote it to the board (its
// Task objects are on its own thread). Drawn as lanes.ts draws one host's lanes.

import { FIBER_KINDS } from "../src/demo/summary.js";
import { BOARD_LANES, type BoardRow, LANE_STATUSES, NEW_FIBER, Word } from "../src/demo/board.js";
import { COLORS } from "./lanes.js";

const LANE_H = 12;
const GAP = 3;
const COL = 3; // px per sample
const BACKGROUND = "#fafbfc";

export class WorkerLanes {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly labels: HTMLElement[] = [];
  private readonly dpr = Math.max(1, Math.round(globalThis.devicePixelRatio || 1));
  private readonly columns: number;
  /** Per lane (worker-major), a ring of samples; `head` is the next column (the oldest). */
  private readonly history: Uint8Array[];
  private head = 0;
  /** Samples taken (the end-to-end test reads it). */
  samples = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    labelBox: HTMLElement,
    private readonly rows: readonly BoardRow[],
  ) {
    this.ctx = canvas.getContext("2d")!;
    labelBox.replaceChildren();
    // A row a lane, and a header row per worker: the labels and the canvas keep the same rows.
    rows.forEach((row, w) => {
      const header = document.createElement("div");
      header.className = "worker-header";
      header.dataset.testid = `lanes-worker-${w + 1}`;
      header.style.height = `${LANE_H}px`;
      header.style.marginBottom = `${GAP}px`;
      header.textContent = `worker ${w + 1} (thread ${row.get(Word.THREAD) || "…"})`;
      labelBox.append(header);
      for (let i = 0; i < BOARD_LANES; i++) {
        const label = document.createElement("div");
        label.style.height = `${LANE_H}px`;
        label.style.marginBottom = `${GAP}px`;
        label.textContent = "—";
        labelBox.append(label);
        this.labels.push(label);
      }
    });
    this.headers = Array.from(labelBox.querySelectorAll<HTMLElement>(".worker-header"));
    const width = Math.max(200, Math.floor(canvas.parentElement!.clientWidth));
    const height = rows.length * (BOARD_LANES + 1) * (LANE_H + GAP);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    canvas.width = width * this.dpr;
    canvas.height = height * this.dpr;
    this.ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    this.columns = Math.floor(width / COL);
    this.history = Array.from({ length: rows.length * BOARD_LANES }, () => new Uint8Array(this.columns));
  }

  private readonly headers: HTMLElement[];

  /** Takes one sample of every worker's lanes from the board, and repaints. */
  sample(): void {
    this.rows.forEach((row, w) => {
      this.headers[w]!.textContent = `worker ${w + 1} (thread ${row.get(Word.THREAD) || "…"})`;
      for (let i = 0; i < BOARD_LANES; i++) {
        const lane = w * BOARD_LANES + i;
        const { code, fiber } = row.lane(i);
        this.history[lane]![this.head] = code;
        const name = fiber < 0 ? "—" : `${FIBER_KINDS[fiber & 7] ?? "fiber"}-${fiber >> 3}`;
        if (this.labels[lane]!.textContent !== name) this.labels[lane]!.textContent = name;
      }
    });
    this.head = (this.head + 1) % this.columns;
    this.samples++;
    this.paint();
  }

  private paint(): void {
    const ctx = this.ctx;
    const width = this.columns * COL;
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, this.canvas.width / this.dpr, this.canvas.height / this.dpr);
    this.history.forEach((ring, lane) => {
      const w = Math.floor(lane / BOARD_LANES);
      const y = (lane + w + 1) * (LANE_H + GAP); // below its worker's header row
      let runStart = 0;
      let runValue = -1;
      const flush = (end: number): void => {
        if (runValue <= 0) return; // nothing sampled, or nobody there: background
        const status = LANE_STATUSES[runValue];
        ctx.fillStyle = runValue === NEW_FIBER || !status ? BACKGROUND : COLORS[status];
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
    });
  }

  /** How many samples of worker `w`'s lanes showed a fiber (any state), over the ring: what the test reads. */
  shown(w: number): number {
    let n = 0;
    for (let i = 0; i < BOARD_LANES; i++) for (const v of this.history[w * BOARD_LANES + i]!) if (v !== 0) n++;
    return n;
  }
}
