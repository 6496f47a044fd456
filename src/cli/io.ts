// Where a command writes: stdout, stderr, and the progress bar's stream (stderr, drawn only on a terminal).

import type { ProgressStream } from "./progress.js";

export interface Io {
  out(line: string): void;
  err(line: string): void;
  progress: ProgressStream;
}

export const processIo: Io = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  progress: process.stderr,
};
