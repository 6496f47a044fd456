import { fileURLToPath } from "node:url";
import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";
import { chromiumArgs, chromiumPath } from "./scripts/chromium.mjs";

// Some tests (scheduler stress, wasm compile) take ~30 s.
const TEST_TIMEOUT = 60_000;

/** The two headers that make a page cross-origin isolated (web/vite.config.ts sends the same). */
const CROSS_ORIGIN_ISOLATION = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  // The browser project's Vite dev server (which serves the runner's pages, the sources and the workers'
  // scripts; @vitest/browser copies server.headers onto each response) sends COOP/COEP: the page is
  // then cross-origin isolated, so SharedArrayBuffer exists (test/workers.threads.test.ts). Set here,
  // not in the project: the browser server reads this file as its Vite config, and a project's own
  // `server` does not reach it (vitest 4.1).
  server: { headers: CROSS_ORIGIN_ISOLATION },
  // A worker fixture imports the library by the package's own name (test/fixtures/workers/): Node
  // resolves it to dist/ (package.json's exports), the browser project to the sources it serves.
  resolve: { alias: [{ find: /^fiberhost$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) }] },
  // Pre-bundle the loader up front: a mid-run re-optimisation reloads the browser page.
  optimizeDeps: {
    include: [
      "@assemblyscript/loader",
      "quickjs-emscripten-core",
      "@jitl/quickjs-wasmfile-release-asyncify",
      "@jitl/quickjs-wasmfile-debug-asyncify",
      "@jitl/quickjs-wasmfile-release-sync",
    ],
  },
  test: {
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // A fiber's failure nothing observed, or console.error/warn output, fails its test.
    setupFiles: ["./test/support/setup.ts"],
    // For the property tests in both projects (a browser has no process.env): test/support/property.ts.
    provide: {
      fiberhostEnv: { seed: process.env.FIBERHOST_SEED, soakRuns: process.env.FIBERHOST_SOAK_RUNS },
    },
    testTimeout: TEST_TIMEOUT,
    hookTimeout: TEST_TIMEOUT,
    teardownTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: { label: "node", color: "green" },
          environment: "node",
          // node:wasi (the C guest's WASI) warns that it is experimental, on stderr, in every worker
          // that loads it: a green run stays quiet.
          execArgv: ["--disable-warning=ExperimentalWarning"],
          // includes the node-only *.node.test.ts files
          include: ["test/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: { label: "browser", color: "magenta" },
          include: ["test/**/*.test.ts"],
          exclude: ["test/**/*.node.test.ts", "**/node_modules/**"],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: {
                executablePath: chromiumPath,
                args: chromiumArgs,
              },
            }),
            instances: [{ browser: "chromium" }],
            // A blank page is all there is to see (no DOM under test); don't
            // litter test/**/__screenshots__/ with failure screenshots.
            screenshotFailures: false,
          },
        },
      },
    ],
  },
});
