#!/usr/bin/env node
// Makes sure the C toolchain for the C guest (examples/c-guest) is here: Debian's clang with the
// wasm32 target, wasm-ld (lld), wasi-libc (its sysroot: /usr/include/wasm32-wasi and
// /usr/lib/wasm32-wasi) and clang's wasm32 runtime (libclang-rt-dev-wasm32).
//
// Found: exit 0. Missing, root and apt-get available: apt-get update + apt-get install -y of the
// packages. Otherwise: exit 1 naming the packages. Plain Node ESM, no dependencies; the build
// script (scripts/build-c-guest.mjs) imports ensureWasiClang() from here.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";

export const PACKAGES = ["clang", "lld", "wasi-libc", "libclang-rt-dev-wasm32"];
/** wasi-libc's sysroot as Debian lays it out (its headers and libraries under a wasm32-wasi triple folder). */
export const SYSROOT = "/usr";
const MARKERS = ["/usr/lib/wasm32-wasi/libc.a", "/usr/include/wasm32-wasi/stdio.h"];

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function which(cmd) {
  for (const dir of (process.env.PATH || "").split(delimiter)) {
    if (dir && isExecutable(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

/** Can clang link a wasm32-wasi program here? (clang, wasm-ld, wasi-libc, the wasm32 builtins) */
function probe() {
  const clang = process.env.CLANG || which("clang");
  if (clang === null || which("wasm-ld") === null) return null;
  if (!MARKERS.every((p) => existsSync(p))) return null;
  const r = spawnSync(clang, ["--target=wasm32-wasi", `--sysroot=${SYSROOT}`, "-print-libgcc-file-name"], {
    encoding: "utf8",
  });
  const builtins = r.status === 0 ? r.stdout.trim() : "";
  return builtins !== "" && existsSync(builtins) ? clang : null;
}

function run(cmd, args) {
  console.error(`[ensure-wasi-clang] $ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const hint = `Install the Debian/Ubuntu packages ${PACKAGES.join(", ")} (apt-get install ${PACKAGES.join(" ")}), or set CLANG to a clang with the wasm32-wasi target and wasi-libc under ${SYSROOT}.`;

/** The clang to use; installs the packages through apt-get when root, else throws with what to install. */
export function ensureWasiClang() {
  let clang = probe();
  if (clang !== null) return clang;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (process.platform !== "linux" || !isRoot || which("apt-get") === null) {
    const why = process.platform !== "linux" ? "not Linux" : !isRoot ? "not running as root" : "apt-get not available";
    throw new Error(`[ensure-wasi-clang] no clang for wasm32-wasi here, and cannot install it (${why}). ${hint}`);
  }
  console.error(`[ensure-wasi-clang] installing ${PACKAGES.join(" ")} with apt-get...`);
  if (run("apt-get", ["update"]) !== 0) throw new Error(`[ensure-wasi-clang] apt-get update failed. ${hint}`);
  const status = run("apt-get", ["install", "-y", "--no-install-recommends", ...PACKAGES]);
  clang = probe();
  if (status !== 0 || clang === null)
    throw new Error(`[ensure-wasi-clang] apt-get install failed (exit ${status}). ${hint}`);
  return clang;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    ensureWasiClang();
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
