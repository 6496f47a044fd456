// A page whose Content-Security-Policy does not allow WebAssembly makes the browser refuse to
// compile the core, with a CompileError that names neither fiberhost nor the fix. That refusal is
// turned into an HResultError saying what the page needs; any other error passes unchanged.

import { HOST_E_CLRNOTAVAILABLE, HResultError } from "../base/hresult.js";

// Chromium and Safari: "… Content Security Policy directive: "script-src 'self'"."; Firefox:
// "… blocked by CSP". The directive is quoted only by the first two.
const REFUSAL = /Content[- ]Security[- ]Policy|\bCSP\b/i;
const DIRECTIVE = /directive:?\s*"([^"]+)"/i;

/** The HResultError for a CSP refusal to compile WebAssembly, or `err` itself when it is not one. */
export function explainCompileRefusal(err: unknown): unknown {
  const message = err instanceof Error ? err.message : typeof err === "string" ? err : "";
  if (!REFUSAL.test(message)) return err;
  const directive = DIRECTIVE.exec(message)?.[1];
  const named = directive ? `its directive "${directive}"` : "its script-src directive";
  const error = new HResultError(
    HOST_E_CLRNOTAVAILABLE,
    `createHost: the page's Content-Security-Policy refuses to compile WebAssembly: ${named} must allow ` +
      `'wasm-unsafe-eval' (e.g. script-src 'self' 'wasm-unsafe-eval'). The browser said: ${message}`,
  );
  (error as { cause?: unknown }).cause = err;
  return error;
}
