// The system Chromium (Debian package `chromium`) and the flags it runs with: one list for the
// browser test project (vitest.config.ts), the end-to-end test (test/e2e/) and the browser
// benchmarks (bench/). Playwright never downloads a browser. Override the binary with
// CHROMIUM_PATH; `scripts/ensure-chromium.mjs` (run by `npm test`) installs it when missing.
import { existsSync } from "node:fs";

export const chromiumPath =
  process.env.CHROMIUM_PATH ||
  ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p)) ||
  "/usr/bin/chromium";

export const chromiumArgs = [
  "--no-sandbox", // required when running as root (CI containers)
  "--disable-gpu",
  "--disable-dev-shm-usage", // small /dev/shm in containers crashes tabs
  "--disable-quic",
  "--no-first-run",
  // Without these, Chromium phones home at startup and, on a closed network,
  // its refused connections slow down / break the run.
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
