import { existsSync } from 'node:fs'
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'

// Browser tests run in the system Chromium (Debian package `chromium`); Playwright
// never downloads a browser. Override the binary with CHROMIUM_PATH.
// `scripts/ensure-chromium.mjs` (run by `npm test`) installs it when missing.
const chromiumPath =
  process.env.CHROMIUM_PATH ||
  ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ||
  '/usr/bin/chromium'

const chromiumArgs = [
  '--no-sandbox', // required when running as root (CI containers)
  '--disable-gpu',
  '--disable-dev-shm-usage', // small /dev/shm in containers crashes tabs
  '--disable-quic',
  '--no-first-run',
  // Without these, Chromium phones home at startup and, on a closed network,
  // its refused connections slow down / break the run.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

// Some tests (scheduler stress, wasm compile) take ~30 s.
const TEST_TIMEOUT = 60_000

export default defineConfig({
  // Pre-bundle the loader up front: a mid-run re-optimisation reloads the browser page.
  optimizeDeps: { include: ['@assemblyscript/loader'] },
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: TEST_TIMEOUT,
    hookTimeout: TEST_TIMEOUT,
    teardownTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: { label: 'node', color: 'green' },
          environment: 'node',
          // includes the node-only *.node.test.ts files
          include: ['test/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: { label: 'browser', color: 'magenta' },
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.node.test.ts', '**/node_modules/**'],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: {
                executablePath: chromiumPath,
                args: chromiumArgs,
              },
            }),
            instances: [{ browser: 'chromium' }],
            // A blank page is all there is to see (no DOM under test); don't
            // litter test/**/__screenshots__/ with failure screenshots.
            screenshotFailures: false,
          },
        },
      },
    ],
  },
})
