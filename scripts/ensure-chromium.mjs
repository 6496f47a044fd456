#!/usr/bin/env node
// Makes sure a Chromium binary exists for the vitest `browser` project.
// Playwright never downloads browsers here; vitest.config.ts launches the
// system Chromium (CHROMIUM_PATH, else /usr/bin/chromium).
//
// Found: exit 0. Missing, root and apt-get available: apt-get update +
// apt-get install -y chromium (Debian/Ubuntu). Otherwise: exit 1 with a hint.
// Plain Node ESM, no dependencies.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(Boolean);

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findChromium() {
  return candidates.find(isExecutable);
}

function onPath(cmd) {
  return (process.env.PATH || "").split(delimiter).some((dir) => dir && isExecutable(join(dir, cmd)));
}

function run(cmd, args) {
  console.error(`[ensure-chromium] $ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, {
    stdio: "inherit", // stream apt output
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const hint =
  "Install Chromium (Debian/Ubuntu package `chromium`: apt-get install chromium) " +
  "or set CHROMIUM_PATH " +
  "to a Chromium/Chrome executable.";

if (process.env.CHROMIUM_PATH && !isExecutable(process.env.CHROMIUM_PATH)) {
  console.error(`[ensure-chromium] CHROMIUM_PATH=${process.env.CHROMIUM_PATH} is not an executable file.`);
  process.exit(1);
}

let found = findChromium();
if (found) {
  process.exit(0);
}

console.error(`[ensure-chromium] No Chromium found (looked at: ${candidates.join(", ")}).`);

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (process.platform !== "linux" || !isRoot || !onPath("apt-get")) {
  const why = process.platform !== "linux" ? "not Linux" : !isRoot ? "not running as root" : "apt-get not available";
  console.error(`[ensure-chromium] Cannot install it automatically (${why}).`);
  console.error(`[ensure-chromium] ${hint}`);
  process.exit(1);
}

console.error("[ensure-chromium] Installing the Debian package `chromium` with apt-get...");
if (run("apt-get", ["update"]) !== 0) {
  console.error("[ensure-chromium] apt-get update failed.");
  console.error(`[ensure-chromium] ${hint}`);
  process.exit(1);
}
const status = run("apt-get", ["install", "-y", "chromium"]);
found = findChromium();
if (status !== 0 || !found) {
  console.error(`[ensure-chromium] apt-get install chromium failed (exit ${status}).`);
  console.error(`[ensure-chromium] ${hint}`);
  process.exit(1);
}
console.error(`[ensure-chromium] Installed: ${found}`);
