// A Content-Security-Policy without 'wasm-unsafe-eval' makes the browser refuse to compile the core:
// createHost then rejects with an HResultError (HOST_E_CLRNOTAVAILABLE) that names the directive and
// the fix, not with the browser's bare CompileError. In Chromium the refusal is real (a page with
// that policy, in an iframe); in both projects the mapping and its wiring into createHost are checked.
import { afterEach, describe, expect, it } from "vitest";
import { createHost, HOST_E_CLRNOTAVAILABLE, HResultError } from "../src/index.js";
import { explainCompileRefusal } from "../src/core/csp.js";

// What each engine says (Chromium 156, Safari 17, Firefox 128).
const CHROMIUM =
  "WebAssembly.compile(): Refused to compile or instantiate WebAssembly module because 'unsafe-eval' is not an " +
  "allowed source of script in the following Content Security Policy directive: \"script-src 'self'\"";
const SAFARI =
  "Refused to create a WebAssembly object because 'unsafe-eval' or 'wasm-unsafe-eval' is not an allowed source of " +
  "script in the following Content Security Policy directive: \"default-src 'self'\".";
const FIREFOX = "call to WebAssembly.compile() blocked by CSP";

function compileError(message: string): Error {
  return new WebAssembly.CompileError(message);
}

describe("explainCompileRefusal: a CSP refusal becomes an HResultError that says what the page needs", () => {
  it.each([
    ["Chromium", CHROMIUM, `its directive "script-src 'self'"`],
    ["Safari", SAFARI, `its directive "default-src 'self'"`],
    ["Firefox (no directive quoted)", FIREFOX, "its script-src directive"],
  ])(
    "%s: HOST_E_CLRNOTAVAILABLE naming the directive and 'wasm-unsafe-eval', the browser's error as cause",
    (_, message, named) => {
      const original = compileError(message);
      const err = explainCompileRefusal(original) as HResultError & { cause?: unknown };
      expect(err).toBeInstanceOf(HResultError);
      expect(err.hr).toBe(HOST_E_CLRNOTAVAILABLE >>> 0);
      expect(err.message).toContain(named);
      expect(err.message).toContain("'wasm-unsafe-eval'");
      expect(err.message).toContain("Content-Security-Policy");
      expect(err.message).toContain(message);
      expect(err.cause).toBe(original);
    },
  );

  it("passes any other error, and anything that is not an error, through unchanged", () => {
    const bad = compileError("WebAssembly.compile(): expected magic word 00 61 73 6d");
    expect(explainCompileRefusal(bad)).toBe(bad);
    const range = new RangeError("WebAssembly.Memory(): could not allocate memory");
    expect(explainCompileRefusal(range)).toBe(range);
    for (const v of [undefined, null, 42, { message: CHROMIUM }]) expect(explainCompileRefusal(v)).toBe(v);
  });
});

describe("createHost when compiling the core is refused", () => {
  const compile = WebAssembly.compile;
  afterEach(() => {
    WebAssembly.compile = compile;
  });

  it("rejects with the HResultError (not the CompileError); once compiling is allowed, createHost works", async () => {
    // The refusal as the engine reports it, for this file's first compile of the core.
    WebAssembly.compile = () => Promise.reject(compileError(CHROMIUM));
    const err = await createHost().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HResultError);
    expect((err as HResultError).hr).toBe(HOST_E_CLRNOTAVAILABLE >>> 0);
    expect((err as Error).message).toMatch(/^HOST_E_CLRNOTAVAILABLE: createHost: the page's Content-Security-Policy/);
    // The refusal is not cached: the same process compiles the core once the policy allows it.
    WebAssembly.compile = compile;
    const host = await createHost();
    expect(host.checkInvariants()).toBe(true);
  });
});

// Node has no Content-Security-Policy (nor any flag that refuses wasm compilation): the real refusal is
// Chromium's alone, so these tests run only in the browser project (skipped, not absent, in Node; the
// next test makes sure the browser project has a page to run them in).
it("the browser project has a document: the real refusal below runs there", ({ task, skip }) => {
  skip(!task.file.projectName?.startsWith("browser"), "Node has no page and no CSP");
  expect(typeof document).toBe("object");
});

describe.runIf(typeof document !== "undefined")("in Chromium, a page whose CSP lacks 'wasm-unsafe-eval'", () => {
  /** Runs `script` (a module) in an iframe whose page has policy `csp`; resolves to what it posts back. */
  function inPage(csp: string, script: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const frame = document.createElement("iframe");
      const id = Math.random().toString(36).slice(2);
      const timer = setTimeout(() => reject(new Error("the page posted nothing within 20 s")), 20_000);
      addEventListener("message", function onMessage(e: MessageEvent) {
        if ((e.data as { id?: string })?.id !== id) return;
        removeEventListener("message", onMessage);
        clearTimeout(timer);
        frame.remove();
        resolve((e.data as { result: unknown }).result);
      });
      frame.srcdoc =
        `<!doctype html><meta http-equiv="Content-Security-Policy" content="${csp}">` +
        `<script type="module">const post = (result) => parent.postMessage({ id: ${JSON.stringify(id)}, result }, "*");\n` +
        `try { post(await (async () => { ${script} })()); } catch (e) { post({ threw: String(e) }); }</script>`;
      document.body.append(frame);
    });
  }
  const index = new URL("../src/index.ts", import.meta.url).href;

  it("createHost rejects with an HResultError naming the page's script-src directive", async () => {
    const result = (await inPage(
      "script-src 'self' 'unsafe-inline'",
      `const { createHost } = await import(${JSON.stringify(index)});
       try { await createHost(); return { created: true }; }
       catch (e) { return { name: e.name, hr: e.hr, message: e.message, cause: e.cause && e.cause.name }; }`,
    )) as { name: string; hr: number; message: string; cause: string };
    expect(result).toMatchObject({ name: "HResultError", hr: HOST_E_CLRNOTAVAILABLE >>> 0, cause: "CompileError" });
    expect(result.message).toContain(`its directive "script-src 'self' 'unsafe-inline'"`);
    expect(result.message).toContain("'wasm-unsafe-eval'");
  });

  it("the same page with 'wasm-unsafe-eval' added gets a working host", async () => {
    const result = await inPage(
      "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'",
      `const { createHost } = await import(${JSON.stringify(index)});
       const host = await createHost();
       return { created: host.checkInvariants() };`,
    );
    expect(result).toEqual({ created: true });
  });
});
