// The contract's numbers (docs/contract.md §2) as fiberhost exports them: every HRESULT in its unsigned
// form, the WAIT_OPTION flags, the THREAD_PRIORITY values, INFINITE, and the helpers that read
// HRESULTs (succeeded, failed, hresultName, HResultError, check).

import { describe, expect, it } from "vitest";
import * as api from "../src/index.js";
import { HResultError, check, failed, hresultName, succeeded } from "../src/index.js";

const exported = api as unknown as Record<string, unknown>;

const HRESULTS: [string, number][] = [
  ["S_OK", 0x00000000],
  ["S_FALSE", 0x00000001],
  ["E_NOTIMPL", 0x80004001],
  ["E_POINTER", 0x80004003],
  ["E_FAIL", 0x80004005],
  ["E_OUTOFMEMORY", 0x8007000e],
  ["E_INVALIDARG", 0x80070057],
  ["E_UNEXPECTED", 0x8000ffff],
  ["HOST_E_DEADLOCK", 0x80131020],
  ["HOST_E_INTERRUPTED", 0x80131021],
  ["HOST_E_INVALIDOPERATION", 0x80131022],
  ["HOST_E_CLRNOTAVAILABLE", 0x80131023],
  ["HOST_E_TIMEOUT", 0x80131024],
  ["HOST_E_NOT_OWNER", 0x80131025],
  ["HOST_E_ABANDONED", 0x80131026],
  ["HOST_E_EXITPROCESS_THREADABORT", 0x80131027],
  ["HOST_E_EXITPROCESS_ADUNLOAD", 0x80131028],
  ["HOST_E_EXITPROCESS_TIMEOUT", 0x80131029],
  ["HOST_E_EXITPROCESS_OUTOFMEMORY", 0x8013102a],
  ["HOST_E_EXITPROCESS_STACKOVERFLOW", 0x8013102b],
  ["COR_E_STACKOVERFLOW", 0x800703e9],
];

const hex = (v: number) => "0x" + v.toString(16).toUpperCase().padStart(8, "0");

describe("the HRESULT constants", () => {
  it.each(HRESULTS.map(([name, value]) => [name, hex(value), value] as const))(
    "exports %s as %s, unsigned, and hresultName names it",
    (name, _, value) => {
      expect(exported[name]).toBe(value);
      expect(hresultName(value)).toBe(name);
    },
  );

  it("every failure code is an unsigned 32-bit integer with the top bit set; S_OK and S_FALSE are not failures", () => {
    for (const [name, value] of HRESULTS) {
      expect(Number.isInteger(value) && value >= 0 && value <= 0xffffffff, name).toBe(true);
      expect(value >= 0x80000000, name).toBe(name !== "S_OK" && name !== "S_FALSE");
    }
  });
});

describe("the WAIT_OPTION flags", () => {
  it.each([
    ["WAIT_MSGPUMP", 0x1],
    ["WAIT_ALERTABLE", 0x2],
    ["WAIT_NOTINDEADLOCK", 0x4],
  ])("exports %s as %i", (name, value) => {
    expect(exported[name]).toBe(value);
  });
});

describe("the THREAD_PRIORITY values", () => {
  it.each([
    ["THREAD_PRIORITY_IDLE", -15],
    ["THREAD_PRIORITY_LOWEST", -2],
    ["THREAD_PRIORITY_BELOW_NORMAL", -1],
    ["THREAD_PRIORITY_NORMAL", 0],
    ["THREAD_PRIORITY_ABOVE_NORMAL", 1],
    ["THREAD_PRIORITY_HIGHEST", 2],
    ["THREAD_PRIORITY_TIME_CRITICAL", 15],
  ])("exports %s as %i", (name, value) => {
    expect(exported[name]).toBe(value);
  });
});

describe("INFINITE", () => {
  it("is 0xFFFFFFFF, the largest DWORD", () => {
    expect(exported.INFINITE).toBe(0xffffffff);
  });
});

describe("the ETaskType values (docs/contract.md §2)", () => {
  it("exports every TT_* value", () => {
    const expected: Record<string, number> = {
      TT_DEBUGGERHELPER: 0x1,
      TT_GC: 0x2,
      TT_FINALIZER: 0x4,
      TT_THREADPOOL_TIMER: 0x8,
      TT_THREADPOOL_GATE: 0x10,
      TT_THREADPOOL_WORKER: 0x20,
      TT_THREADPOOL_IOCOMPLETION: 0x40,
      TT_ADUNLOAD: 0x80,
      TT_USER: 0x100,
      TT_THREADPOOL_WAIT: 0x200,
      TT_UNKNOWN: 0x80000000,
    };
    expect(Object.fromEntries(Object.keys(expected).map((name) => [name, exported[name]]))).toEqual(expected);
  });
});

describe("succeeded / failed", () => {
  it("S_OK and S_FALSE succeed; every failure code fails", () => {
    for (const [name, value] of HRESULTS) {
      const ok = name === "S_OK" || name === "S_FALSE";
      expect(succeeded(value), name).toBe(ok);
      expect(failed(value), name).toBe(!ok);
    }
  });

  it("read the signed form of a code the same way", () => {
    for (const [name, value] of HRESULTS) {
      const signed = value | 0;
      expect(succeeded(signed), name).toBe(succeeded(value));
      expect(failed(signed), name).toBe(failed(value));
    }
    expect(failed(-2147467259)).toBe(true); // E_FAIL as a signed 32-bit integer
    expect(succeeded(-2147467259)).toBe(false);
  });

  it("read any success code (top bit clear) as success", () => {
    expect(succeeded(2)).toBe(true);
    expect(succeeded(0x7fffffff)).toBe(true);
    expect(failed(0x7fffffff)).toBe(false);
  });
});

describe("hresultName", () => {
  it("names the signed form of a code too", () => {
    expect(hresultName(0x80004005 | 0)).toBe("E_FAIL");
    expect(hresultName(0x80131026 | 0)).toBe("HOST_E_ABANDONED");
  });

  it("gives the 8-digit hex form of a code it has no name for", () => {
    expect(hresultName(0x80001234)).toBe("0x80001234");
    expect(hresultName(2)).toBe("0x00000002");
    expect(hresultName(0x80001234 | 0)).toBe("0x80001234");
  });
});

describe("HResultError", () => {
  it("is an Error carrying the unsigned HRESULT in .hr and naming it in its message", () => {
    const err = new HResultError(0x80070057, "stack size must be a byte count");
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("HResultError");
    expect(err.hr).toBe(0x80070057);
    expect(err.message).toContain("E_INVALIDARG");
    expect(err.message).toContain("stack size must be a byte count");
  });

  it("given the signed form, carries the unsigned one", () => {
    const err = new HResultError(0x80131026 | 0, "abandoned");
    expect(err.hr).toBe(0x80131026);
    expect(err.message).toContain("HOST_E_ABANDONED");
  });

  it("names a code without a name by its hex form", () => {
    expect(new HResultError(0x80001234, "x").message).toContain("0x80001234");
  });
});

describe("check", () => {
  it("returns a success code and throws an HResultError for a failure code", () => {
    expect(check(0, "fine")).toBe(0);
    expect(check(1, "fine")).toBe(1);
    let thrown: unknown;
    try {
      check(0x80131022, "what failed");
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HResultError);
    expect((thrown as HResultError).hr).toBe(0x80131022);
    expect((thrown as HResultError).message).toContain("what failed");
  });
});
