// The public types of a guest's linear-memory stack (stack-finder.ts finds it): apart, so that the
// published types reach nothing of the scheduler.

/** How an instance's linear-memory stack is kept (guest.stack). */
export type GuestStackKind = "per-fiber" | "serial" | "none";

/** Reads and writes a guest's stack pointer. */
export interface StackPointer {
  get(): number;
  set(value: number): void;
}

/**
 * instantiate's options.stack: "auto" (default: find it), "none" (the guest has no linear-memory
 * stack to protect), "serial" (one parked call at a time), or where the stack pointer is.
 */
export type StackOption =
  | "auto"
  | "none"
  | "serial"
  | { pointer: string | WebAssembly.Global | StackPointer; memory?: WebAssembly.Memory };
