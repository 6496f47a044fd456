// The CI guardrails that keep the docs and assembly/ honest: scripts/docs.mjs (npm run check:docs)
// makes each generated number again from bench/results/ and build/ and names every stale one;
// scripts/check-assembly-format.mjs (part of npm run format:check) holds assembly/ to the house format.
// Node only: both read the repository's files.
import { readFileSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { regenerate, generatedValue } from "../scripts/docs.mjs";
import { offences } from "../scripts/check-assembly-format.mjs";

const nodeResults = JSON.parse(readFileSync(new URL("../bench/results/node.json", import.meta.url), "utf8")) as {
  cases: { name: string; medianNs: number }[];
  ratios: Record<string, number>;
};
const SWITCH = "fiberhost switch (yield f.yield() ping-pong)";

describe("scripts/docs.mjs: generated numbers", () => {
  it("reads a case's median from bench/results/, three significant digits with its unit", () => {
    const median = nodeResults.cases.find((c) => c.name === SWITCH)!.medianNs;
    expect(generatedValue(`bench node case "${SWITCH}"`)).toBe(`${median.toPrecision(3)} ns`);
  });

  it("reads the release core's size from build/, grouped", () => {
    const bytes = statSync(new URL("../build/core.release.wasm", import.meta.url)).size;
    expect(generatedValue("core release-bytes")).toBe(bytes.toLocaleString("en-US"));
  });

  it("refuses a marker that names no value (a renamed case fails the check, not the reader)", () => {
    expect(() => generatedValue('bench node case "no such case"')).toThrow(/names no value/);
    expect(() => generatedValue("core nothing")).toThrow(/names no value/);
  });

  it("leaves a current block as it is and reports nothing", () => {
    const text = `a switch is <!-- gen bench node case "${SWITCH}" -->${generatedValue(`bench node case "${SWITCH}"`)}<!-- /gen --> here\n`;
    expect(regenerate("x.md", text)).toEqual({ text, stale: [] });
  });

  it("names a stale block, with what it says and what the source says, and rewrites it", () => {
    const now = generatedValue(`bench node ratio "fiberhost switch / raw generator round trip"`);
    const text = 'ratio <!-- gen bench node ratio "fiberhost switch / raw generator round trip" -->9.99<!-- /gen -->.';
    const r = regenerate("x.md", text);
    expect(r.stale).toEqual([
      `x.md: <!-- gen bench node ratio "fiberhost switch / raw generator round trip" --> is "9.99", the source says "${now}"`,
    ]);
    expect(r.text).toBe(
      `ratio <!-- gen bench node ratio "fiberhost switch / raw generator round trip" -->${now}<!-- /gen -->.`,
    );
  });

  it("names a stale Performance section", () => {
    const text = "x\n<!-- performance:start -->\n## Performance\n\nold\n<!-- performance:end -->\n";
    const r = regenerate("README.md", text);
    expect(r.stale).toEqual(["README.md: the Performance section (bench/readme.js)"]);
    expect(r.text).toContain(`| ${SWITCH} |`);
    expect(regenerate("README.md", r.text).stale).toEqual([]);
  });
});

describe("scripts/check-assembly-format.mjs: the house format for assembly/", () => {
  it("accepts two-space indentation, a block comment's star lines and a final newline", () => {
    expect(offences("/**\n * A comment.\n */\nexport function f(): i32 {\n  return 1;\n}\n")).toEqual([]);
  });

  it("names each offence with its line", () => {
    const text = `a\n\tb\nc  \n   d\n${"x".repeat(121)}\ne`;
    expect(offences(text)).toEqual([
      [6, "no final newline"],
      [2, "tab"],
      [3, "trailing whitespace"],
      [4, "indented by 3 spaces"],
      [5, "121 characters (at most 120)"],
    ]);
  });

  it("refuses CR line endings and blank lines at the end", () => {
    expect(offences("a\r\nb\n\n")).toEqual([
      [3, "blank lines at the end"],
      [1, "CR (line endings are LF)"],
    ]);
  });
});
