// The cases of bench/threads.js, in the order each round runs them (bench/threads-cases.js has
// them; this list is apart so the runner need not load the library to know them).
export const CASE_NAMES = [
  "pair-plain",
  "pair-shared",
  "stw-1",
  "stw-2",
  "stw-4",
  "wake-idle",
  "wake-busy",
  "wake-floor",
  "cpu",
];
