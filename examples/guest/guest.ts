// The example guest: a WebAssembly module that fiberhost hosts as managed code. Its imports are
// the unmanaged JS host; some answer at once, `host_fetch` may answer a promise (a suspending
// import), and `host_callback` calls back into the guest, so that export → import → export →
// import gives the frames ReverseEnter, Leave, ReverseEnter, Leave.
// Built by scripts/build-guest.mjs: a plain build (for JSPI and for no suspension) and one with
// Binaryen's asyncify pass restricted to env.host_fetch.

@external("env", "host_add")
declare function hostAdd(a: i32, b: i32): i32;

@external("env", "host_fetch")
declare function hostFetch(x: i32): i32;

@external("env", "host_callback")
declare function hostCallback(n: i32): i32;

@external("env", "host_fail")
declare function hostFail(code: i32): void;

@external("env", "host_note")
declare function hostNote(x: i32): void;

/** No import at all: the cost of a hooked export call over an unhooked one. */
export function add(a: i32, b: i32): i32 {
  return a + b;
}

export function noop(): void {}

/** One call out to a synchronous import. */
export function callAdd(a: i32, b: i32): i32 {
  return hostAdd(a, b);
}

/** `n` calls out to a synchronous import, from a loop inside the guest. */
export function addLoop(n: i32): i32 {
  let s = 0;
  for (let i = 0; i < n; i++) s = hostAdd(s, 1);
  return s;
}

/** Three calls to the suspending import, with state live across each (asyncify must save it). */
export function compute(x: i32): i32 {
  let s = 0;
  for (let i = 0; i < 3; i++) {
    const v = hostFetch(x + i);
    s = s * 10 + v;
  }
  return s;
}

/** One call to the suspending import: the suspension round trip. */
export function fetchOnce(x: i32): i32 {
  return hostFetch(x);
}

/**
 * Pure computation inside a function that may suspend: what asyncify costs on code that never
 * does (the instrumented locals and checks around the loop).
 */
export function sumMaybeFetch(n: i32, fetch: i32): i32 {
  let s = 0;
  for (let i = 0; i < n; i++) s += i ^ (s >>> 3);
  if (fetch != 0) s += hostFetch(s & 0xff);
  return s;
}

/** `n` guest frames deep, then the suspending import: asyncify saves every one of them. */
export function deepFetch(n: i32): i32 {
  if (n <= 0) return hostFetch(1);
  return deepFetch(n - 1) + 1;
}

/** export → import → export → …: `host_callback(n)` calls back into `nested(n - 1)`. */
export function nested(n: i32): i32 {
  if (n <= 0) return 0;
  return hostCallback(n) + 1;
}

/** Like nested, but the innermost level calls the suspending import (a nested suspension). */
export function nestedFetch(n: i32): i32 {
  if (n <= 0) return hostFetch(7);
  return hostCallback(n) + 1;
}

/** The import throws (a JS exception through the guest). */
export function callFail(code: i32): i32 {
  hostFail(code);
  return code;
}

/** A guest trap (unreachable) that crosses no import. */
export function trap(): void {
  unreachable();
}

/** Notes a value, then suspends: the suspension resumes with the guest's own state intact. */
export function noteAndFetch(x: i32): i32 {
  hostNote(x);
  const v = hostFetch(x);
  hostNote(v);
  return v + x;
}

// The asyncify data region: the guest owns it (growing memory from JS would collide with its
// allocator). Its first 8 bytes are asyncify's (current, end) pair; the rest holds an unwound stack.
const ASYNCIFY_DATA_SIZE: i32 = 4096;
const asyncifyData = memory.data(ASYNCIFY_DATA_SIZE, 16);

export function asyncify_data_address(): usize {
  return asyncifyData;
}

export function asyncify_data_size(): i32 {
  return ASYNCIFY_DATA_SIZE;
}
