// Which suspension a guest gets: options.suspension, or for "auto" what the module shows. A guest
// built with asyncify for fiberhost to drive gets "asyncify"; one whose asyncify belongs to its
// own runtime (Emscripten's -sASYNCIFY glue) gets "external", followed rather than driven; a guest
// with suspending imports and no asyncify gets "jspi" where the engine has it; the rest "none".

import { E_NOTIMPL, HResultError } from "../base/hresult.js";
import type { SuspensionMode } from "./guest.js";
import { ASYNCIFY_EXPORTS, Asyncify } from "./asyncify.js";
import type { AsyncifyControl } from "./asyncify-controls.js";
import type { Signatures } from "./binary.js";
import { jspiAvailable } from "./jspi.js";
import { bad } from "./user-input.js";
import type { SuspensionOption } from "./user-input.js";

/**
 * Whose are a guest's asyncify exports? "ours": a guest built with the pass for fiberhost to drive
 * (the five asyncify_* exports, its memory exported as `memory` and not imported, and a data
 * region: exports asyncify_data_address/size, or options.asyncifyData). "theirs": asyncify
 * control exports that another runtime drives (Emscripten's Asyncify: memory imported or not
 * exported as `memory`, no data-region exports, a partial set, or names minified: `controls`
 * found them by their code). null: none.
 */
export function asyncifyOwner(
  imports: readonly WebAssembly.ModuleImportDescriptor[],
  exports: readonly WebAssembly.ModuleExportDescriptor[],
  regionGiven: boolean,
  controls: ReadonlyMap<string, AsyncifyControl> = new Map(),
): "ours" | "theirs" | null {
  const names = new Set<string>();
  let any = controls.size > 0;
  let exportsMemory = false;
  for (const d of exports) {
    if (d.kind === "function") names.add(d.name);
    if ((ASYNCIFY_EXPORTS as readonly string[]).includes(d.name)) any = true;
    if (d.kind === "memory" && d.name === "memory") exportsMemory = true;
  }
  if (!any) return null;
  const importsMemory = imports.some((d) => d.kind === "memory");
  const region = regionGiven || (names.has("asyncify_data_address") && names.has("asyncify_data_size"));
  return ASYNCIFY_EXPORTS.every((n) => names.has(n)) && exportsMemory && !importsMemory && region ? "ours" : "theirs";
}

/**
 * An asyncified guest whose asyncify belongs to its own runtime (Emscripten's): it imports its
 * memory instead of exporting it, so fiberhost's own asyncify could not drive it.
 */
function ownRuntime(
  imports: readonly WebAssembly.ModuleImportDescriptor[],
  exports: readonly WebAssembly.ModuleExportDescriptor[],
): boolean {
  return imports.some((d) => d.kind === "memory") && !exports.some((d) => d.kind === "memory");
}

/**
 * Its function exports' names are minified (Emscripten's -O2 and above: "a", "b", …, "aa", …; three
 * characters reach tens of thousands of exports).
 */
function minified(exports: readonly WebAssembly.ModuleExportDescriptor[]): boolean {
  let any = false;
  for (const d of exports) {
    if (d.kind !== "function") continue;
    if (d.name.length > 3) return false;
    any = true;
  }
  return any;
}

/** What the choice reads of the guest. */
export interface GuestShape {
  imports: readonly WebAssembly.ModuleImportDescriptor[];
  exports: WebAssembly.ModuleExportDescriptor[];
  /** Read from its bytes (null: a compiled Module, or bytes this reader does not understand). */
  sigs: Signatures | null;
  /** Its asyncify control exports (asyncify-controls.ts). */
  controls: ReadonlyMap<string, AsyncifyControl>;
  /** options.asyncifyData was given. */
  regionGiven: boolean;
  /** Some import may answer a promise. */
  anySuspending: boolean;
}

/** The suspension mode for `option`, checked against the guest (HResultError when it cannot be). */
export function chooseSuspension(option: SuspensionOption, guest: GuestShape): SuspensionMode {
  const { imports, exports, sigs } = guest;
  let mode: SuspensionMode;
  if (option === "auto") {
    const owner = asyncifyOwner(imports, exports, guest.regionGiven, guest.controls);
    const own = ownRuntime(imports, exports);
    // A guest whose asyncify exports another runtime drives is not ours to suspend; one that
    // imports its memory and exports none is Emscripten's shape: followed ("external").
    if (owner === "ours") mode = "asyncify";
    else if (owner === "theirs" && own) mode = "external";
    else if (owner === null && own && sigs === null && minified(exports))
      // A minified Emscripten build, its code out of reach: an -sASYNCIFY one (its asyncify_*
      // names minified, found only by their code) looks like a synchronous one here, and taken
      // for one its continuations would run on the root task. (Names kept: no asyncify_* name is
      // no asyncify, and the guest gets "none" below, as any guest importing its memory.)
      throw bad(
        "suspension 'auto' cannot tell whether this guest (its memory imported, none exported, its export names minified: a release Emscripten build's shape) is an -sASYNCIFY build whose asyncify exports are minified: its code cannot be read (a compiled WebAssembly.Module). Pass options.suspension 'external' for an -sASYNCIFY build (see fiberhost/emscripten) or 'none' for a synchronous one, or give the module's bytes",
      );
    else if (owner === null && guest.anySuspending && jspiAvailable() && sigs !== null) mode = "jspi";
    else mode = "none";
  } else mode = option;
  if (mode === "asyncify" && !Asyncify.isAsyncified(exports))
    throw bad(
      "suspension 'asyncify' needs a guest built with Binaryen's asyncify pass (it exports asyncify_start_unwind …)",
    );
  if (mode === "jspi") {
    if (!jspiAvailable())
      throw new HResultError(
        E_NOTIMPL,
        "instantiate: this engine has no JSPI (WebAssembly.Suspending and WebAssembly.promising)",
      );
    if (sigs === null)
      throw bad(
        "suspension 'jspi' needs the guest's bytes (not a compiled Module), in a form whose types this reader knows",
      );
  }
  return mode;
}
