// The C guest: a WebAssembly module compiled by clang for wasm32-wasi, with what every C program
// has and fiberhost's own guest lacks: a shadow stack in linear memory (the __stack_pointer
// global, frames for locals whose address is taken), and wasi-libc underneath (its imports are
// WASI's). Built by scripts/build-c-guest.mjs: plain, and asyncified by binaryen with the one
// suspending import, host.pause.
//
// Each export keeps data on the shadow stack across host.pause (which may answer a promise and
// park the calling fiber): if another fiber's call reused those bytes meanwhile, the answer
// would be wrong.

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define IMPORT(name) __attribute__((import_module("host"), import_name(name)))

/** Suspending: the host may answer a promise; it answers `v` (or a value derived from it). */
IMPORT("pause") int32_t host_pause(int32_t v);

/** Synchronous: the host reads `len` bytes of guest memory at `p` (the frame's address, for the tests). */
IMPORT("peek") int32_t host_peek(const void *p, int32_t len);

/** asyncify's data region: the unwound wasm call stack of a parking call, (start, end) first. */
static int32_t asyncify_data[4096];

EXPORT("asyncify_data_address") int32_t asyncify_data_address(void) { return (int32_t)(intptr_t)asyncify_data; }
EXPORT("asyncify_data_size") int32_t asyncify_data_size(void) { return (int32_t)sizeof asyncify_data; }

/** A struct on the stack (16 bytes), held across the suspending import. */
struct box {
  int32_t value;
  int32_t spare[3];
};

/** keep(v): v in a struct on the stack; parks; answers what the struct holds afterwards. */
EXPORT("keep") int32_t keep(int32_t v) {
  struct box b = {v, {0, 0, 0}};
  host_peek(&b, (int32_t)sizeof b); // the address escapes: the struct lives in linear memory
  host_pause(v);
  return b.value;
}

/** label(v): a struct with a string, on the stack across the suspending import; -1 when it is torn. */
EXPORT("label") int32_t label(int32_t v) {
  struct {
    int32_t value;
    int32_t check;
    char text[24];
  } b;
  b.value = v;
  b.check = ~v;
  snprintf(b.text, sizeof b.text, "label %d", (int)v);
  host_peek(&b, (int32_t)sizeof b);
  int32_t got = host_pause(v);
  char expect[24];
  snprintf(expect, sizeof expect, "label %d", (int)b.value);
  if (b.check != ~b.value || strcmp(expect, b.text) != 0) return -1;
  return b.value + got;
}

/** scratch(v): an ordinary call using 32 bytes of stack, filled with v. */
EXPORT("scratch") int32_t scratch(int32_t v) {
  volatile int32_t words[8];
  for (int i = 0; i < 8; i++) words[i] = v;
  host_peek((const void *)words, (int32_t)sizeof words);
  int32_t s = 0;
  for (int i = 0; i < 8; i++) s += words[i];
  return s / 8;
}

/** Recursion with a local array per frame; the deepest frame parks; every frame's array is read after. */
static int32_t walk(int32_t depth, int32_t seed) __attribute__((noinline));
static int32_t walk(int32_t depth, int32_t seed) {
  int32_t local[8];
  for (int i = 0; i < 8; i++) local[i] = seed * 31 + depth * 7 + i;
  host_peek(local, (int32_t)sizeof local);
  int32_t below = depth > 0 ? walk(depth - 1, seed) : host_pause(seed);
  int32_t s = below;
  for (int i = 0; i < 8; i++) s = s * 3 + local[i];
  return s;
}

/** deep(depth, seed): walk's answer; depth frames of 32+ bytes each on the shadow stack. */
EXPORT("deep") int32_t deep(int32_t depth, int32_t seed) { return walk(depth, seed); }

/** steps(n, seed): n parks in a loop, a running checksum and a buffer on the stack across all of them. */
EXPORT("steps") int32_t steps(int32_t n, int32_t seed) {
  char buf[64];
  int32_t acc = seed;
  for (int32_t i = 0; i < n; i++) {
    int len = snprintf(buf, sizeof buf, "%d:%d", (int)seed, (int)i);
    host_peek(buf, len);
    int32_t got = host_pause(seed + i);
    acc = acc * 33 + got + len + buf[len - 1];
  }
  return acc;
}

/** The guest's stack pointer now (the tests check it is back where it started). */
EXPORT("stack_now") int32_t stack_now(void) {
  volatile char probe[16];
  probe[0] = 1;
  return (int32_t)(intptr_t)&probe[0] + 16;
}

/** A line through WASI's fd_write (stdout): the tests see it in their WASI's output. */
EXPORT("hello") int32_t hello(int32_t n) {
  int r = printf("c-guest: hello %d\n", (int)n);
  fflush(stdout);
  return r;
}
