// The C guest (examples/c-guest/guest.c, built by scripts/build-c-guest.mjs with Debian's clang
// and wasi-libc, asyncified by binaryen) as the tests and benchmarks load it: its WASI imports
// from node:wasi in Node and from a small shim in browsers (the few calls wasi-libc's stdio
// makes), its suspending import host.pause controllable.
import { cGuestBytes, SUSPENDING } from "../../examples/c-guest/generated/c-guest-wasm.js";
import type { Guest, Host, InstantiateOptions } from "../../src/index.js";

export { SUSPENDING };

export interface CGuestExports {
  memory: WebAssembly.Memory;
  /** Present in the "exported" build only. */
  __stack_pointer?: WebAssembly.Global;
  _initialize(): void;
  keep(v: number): number;
  label(v: number): number;
  scratch(v: number): number;
  deep(depth: number, seed: number): number;
  steps(n: number, seed: number): number;
  stack_now(): number;
  hello(n: number): number;
}

export interface LoadedCGuest {
  guest: Guest<CGuestExports>;
  /** What host.pause answers for v: by default v + 1000, synchronously. */
  setPause(pause: (v: number) => unknown): void;
  /** What the guest wrote to stdout and stderr through WASI's fd_write. */
  output(): Promise<string>;
  /** Which WASI: node:wasi or the browser shim. */
  wasi: "node:wasi" | "shim";
}

const isNode =
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string";

interface Wasi {
  kind: "node:wasi" | "shim";
  imports: Record<string, Record<string, unknown>>;
  /** Runs the reactor's _initialize (through the hooked export) once the memory is known. */
  start(exports: CGuestExports): void;
  output(): Promise<string>;
}

/** node:wasi, its stdout and stderr written to a temporary file. */
async function nodeWasi(): Promise<Wasi> {
  const [{ WASI }, fs, os, path] = await Promise.all([
    import(/* @vite-ignore */ "node:wasi"),
    import(/* @vite-ignore */ "node:fs"),
    import(/* @vite-ignore */ "node:os"),
    import(/* @vite-ignore */ "node:path"),
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fiberhost-c-guest-"));
  const file = path.join(dir, "out.txt");
  const fd = fs.openSync(file, "w");
  const wasi = new WASI({ version: "preview1", args: [], env: {}, stdout: fd, stderr: fd, returnOnExit: true });
  return {
    kind: "node:wasi",
    imports: wasi.getImportObject() as Record<string, Record<string, unknown>>,
    start: (exports) => wasi.initialize({ exports: { memory: exports.memory, _initialize: exports._initialize } }),
    output: async () => {
      fs.fsyncSync(fd);
      return fs.readFileSync(file, "utf8");
    },
  };
}

/** What wasi-libc's stdio asks of WASI, for a browser: stdout and stderr collected as text. */
function shimWasi(): Wasi {
  let memory: WebAssembly.Memory | null = null;
  let text = "";
  const decoder = new TextDecoder();
  const EBADF = 8;
  const ESPIPE = 70;
  const view = () => new DataView(memory!.buffer);
  const std = (fd: number) => fd >= 0 && fd <= 2;
  return {
    kind: "shim",
    imports: {
      wasi_snapshot_preview1: {
        fd_write(fd: number, iovs: number, count: number, written: number): number {
          if (fd !== 1 && fd !== 2) return EBADF;
          const v = view();
          let n = 0;
          for (let i = 0; i < count; i++) {
            const p = v.getUint32(iovs + i * 8, true);
            const len = v.getUint32(iovs + i * 8 + 4, true);
            text += decoder.decode(new Uint8Array(memory!.buffer, p, len));
            n += len;
          }
          v.setUint32(written, n, true);
          return 0;
        },
        fd_fdstat_get(fd: number, at: number): number {
          if (!std(fd)) return EBADF;
          const v = view();
          v.setUint8(at, 2); // a character device
          v.setUint16(at + 2, 0, true);
          v.setBigUint64(at + 8, 0xffffffffn, true);
          v.setBigUint64(at + 16, 0n, true);
          return 0;
        },
        fd_seek(fd: number): number {
          return std(fd) ? ESPIPE : EBADF;
        },
        fd_close(fd: number): number {
          return std(fd) ? 0 : EBADF;
        },
      },
    },
    start: (exports) => {
      memory = exports.memory;
      exports._initialize();
    },
    output: async () => text,
  };
}

/**
 * Instantiates the C guest: "exported" (its __stack_pointer exported), "hidden" (the usual clang
 * output) or "emscripten" (Emscripten's stack functions); asyncified, or "plain" (clang's output
 * before the asyncify pass, for suspension "jspi").
 */
export async function loadCGuest(
  host: Host,
  kind: "exported" | "hidden" | "emscripten" = "exported",
  options: InstantiateOptions = {},
  build: "asyncify" | "plain" = "asyncify",
): Promise<LoadedCGuest> {
  let pause: (v: number) => unknown = (v) => v + 1000;
  const wasi = isNode ? await nodeWasi() : shimWasi();
  const imports = {
    ...wasi.imports,
    host: {
      pause: (v: number) => pause(v),
      peek: (_p: number, len: number) => len,
    },
  };
  const guest = await host.instantiate<CGuestExports>(cGuestBytes(kind, build), imports, {
    suspending: SUSPENDING,
    ...options,
  });
  wasi.start(guest.exports);
  return { guest, setPause: (f) => (pause = f), output: wasi.output, wasi: wasi.kind };
}
