// `fiberhost trace FILE` treats the file as untrusted input: generated traces, made hostile
// (prototype keys, control characters, deep nesting, a wrong type at every field, cut short), give
// either the summary a reference model computes, or one line on stderr and exit code 1: never a
// stack dump, never a raw control character on the terminal. Most cases call the CLI's main() in
// this process; a few run the built command (Node only: the CLI reads and writes files).
// FIBERHOST_SEED replays a failure (fast-check prints the seed).

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import type { Io } from "../src/cli/io.js";
import type { TraceSummary } from "../src/cli/trace-command.js";
import { checkProperty, runs } from "./property/support.js";
import { ROOT, buildDist } from "./support/build-dist.js";

const tmp = mkdtempSync(join(tmpdir(), "fiberhost-trace-fuzz-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What must never reach a terminal raw: C0/C1 controls, DEL, separators, bidirectional controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is its job
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

// --- the model: a trace as the recorder (or a hostile editor of its file) might write it -------

const OPS = ["LeaveRuntime", "EnterRuntime", "ReverseEnterRuntime", "ReverseLeaveRuntime"] as const;
const PROTO_KEYS = ["__proto__", "constructor", "toString", "valueOf", "hasOwnProperty", "prototype"];

type Ev =
  | { k: "meta"; tid: number | string; name?: string }
  | { k: "B" | "E" | "exit" | "wait" | "wake" | "abortReq" | "abortDel"; tid: number | string; ts: number }
  | { k: "transition"; op: number; tid: number | string; ts: number }
  | { k: "failed"; op: number; hr?: string; tid: number | string; ts: number }
  | { k: "other"; name: string; ph: string; tid: number | string; ts?: number };

/** A JSON object's members as [key, JSON text], so that any key (even "__proto__") is written as given. */
type Members = [string, string][];
const objectText = (m: Members): string => `{${m.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
const j = (v: unknown): string => JSON.stringify(v);

/** Names a user or a file could give: prototype keys, control and escape sequences, anything. */
const hostileText = fc.oneof(
  fc.constantFrom(...PROTO_KEYS, "", "\u001b[2J\u001b[31mred", "a\u009b31mb", "line\nbreak", "\u202eevil", "tab\there"),
  fc.string({ unit: "binary", maxLength: 12 }),
);
const RECOGNISED = new Set([
  "running",
  "ExitTask",
  "wait",
  "wake",
  "abort requested",
  "abort delivered",
  "thread_name",
]);
const isRecognised = (name: string): boolean =>
  RECOGNISED.has(name) || (OPS as readonly string[]).includes(name) || name.endsWith(" failed");

const tid = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 2 }) }, fc.constantFrom("1", "__proto__"));
const ts = fc.integer({ min: 0, max: 10_000_000 });

// Waits and wakes and threads' names often, so that named fibers' waits end and are listed.
const event: fc.Arbitrary<Ev> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant("meta" as const), tid, name: fc.option(hostileText, { nil: undefined }) }),
  },
  { weight: 4, arbitrary: fc.record({ k: fc.constantFrom("wait", "wake" as const), tid, ts }) },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constantFrom("B", "E", "exit", "abortReq", "abortDel" as const), tid, ts }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant("transition" as const), op: fc.integer({ min: 0, max: 3 }), tid, ts }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("failed" as const),
      op: fc.integer({ min: 0, max: 3 }),
      hr: fc.option(fc.oneof(fc.constantFrom("HOST_E_INVALIDOPERATION", "E_OUTOFMEMORY"), hostileText), {
        nil: undefined,
      }),
      tid,
      ts,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("other" as const),
      name: hostileText.filter((n) => !isRecognised(n)),
      ph: fc.constantFrom("i", "X", "C", "M", "b", "\u001b"),
      tid,
      ts: fc.option(ts, { nil: undefined }),
    }),
  },
);

/** An event's members and, apart, its args' members (undefined: no args). */
function eventMembers(e: Ev): { members: Members; args: Members | undefined } {
  const base = (name: string, ph: string, time: number | undefined): Members => [
    ["name", j(name)],
    ["ph", j(ph)],
    ...(time === undefined ? [] : ([["ts", j(time)]] as Members)),
    ["pid", "1"],
    ["tid", j(e.tid)],
  ];
  switch (e.k) {
    case "meta":
      return { members: base("thread_name", "M", 0), args: e.name === undefined ? undefined : [["name", j(e.name)]] };
    case "B":
    case "E":
      return { members: base("running", e.k, e.ts), args: undefined };
    case "exit":
      return { members: base("ExitTask", "i", e.ts), args: undefined };
    case "wait":
      return { members: base("wait", "i", e.ts), args: [["on", j("an event")]] };
    case "wake":
      return { members: base("wake", "i", e.ts), args: undefined };
    case "abortReq":
    case "abortDel":
      return {
        members: base(e.k === "abortReq" ? "abort requested" : "abort delivered", "i", e.ts),
        args: [["rude", "false"]],
      };
    case "transition":
      return { members: base(OPS[e.op], "i", e.ts), args: e.op === 0 ? [["target", "7"]] : undefined };
    case "failed":
      return {
        members: base(`${OPS[e.op]} failed`, "i", e.ts),
        args:
          e.hr === undefined
            ? [["code", "1"]]
            : [
                ["hr", j(e.hr)],
                ["code", "1"],
              ],
      };
    case "other":
      return { members: base(e.name, e.ph, e.ts), args: undefined };
  }
}

/** The summary the command must print for a well-formed trace: the model's reading of it. */
function expected(events: Ev[], dropped: number, top: number): TraceSummary {
  const names = new Map<unknown, string>();
  const since = new Map<unknown, number>();
  const waits: { tid: unknown; start: number; us: number }[] = [];
  const transitions = { LeaveRuntime: 0, EnterRuntime: 0, ReverseEnterRuntime: 0, ReverseLeaveRuntime: 0 };
  const refused = new Map<string, number>();
  const aborts = { requested: 0, delivered: 0 };
  let exited = 0;
  let switches = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const e of events) {
    if (e.k === "meta") {
      names.set(e.tid, e.name ?? String(e.tid));
      continue;
    }
    if (e.k === "other" && e.ph === "M") continue;
    if (e.ts !== undefined) {
      first = Math.min(first, e.ts);
      last = Math.max(last, e.ts);
    }
    if (e.k === "B") switches++;
    else if (e.k === "exit") exited++;
    else if (e.k === "wait") since.set(e.tid, e.ts);
    else if (e.k === "wake" && since.has(e.tid)) {
      const start = since.get(e.tid) as number;
      waits.push({ tid: e.tid, start, us: e.ts - start });
      since.delete(e.tid);
    } else if (e.k === "transition") transitions[OPS[e.op]]++;
    else if (e.k === "failed") refused.set(e.hr ?? "?", (refused.get(e.hr ?? "?") ?? 0) + 1);
    else if (e.k === "abortReq") aborts.requested++;
    else if (e.k === "abortDel") aborts.delivered++;
  }
  waits.sort((a, b) => b.us - a.us || a.start - b.start);
  const origin = Number.isFinite(first) ? first : 0;
  return {
    events: events.length,
    spanMs: Number.isFinite(first) ? (last - first) / 1000 : 0,
    fibers: names.size,
    exited,
    switches,
    transitions,
    waits: {
      count: waits.length,
      unfinished: since.size,
      longest: waits.slice(0, top).map((w) => ({
        fiber: names.get(w.tid) ?? `tid ${String(w.tid)}`,
        startMs: (w.start - origin) / 1000,
        ms: w.us / 1000,
      })),
    },
    refused: Object.fromEntries(refused),
    aborts,
    dropped,
  };
}

// --- what makes a trace hostile ----------------------------------------------------------------

/**
 * Extra members nobody reads: prototype keys and other names (never one the reader reads there:
 * a duplicate key's last value wins), any JSON values, a few levels deep.
 */
const extras = (read: string[]) =>
  fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 6 })).filter((k) => !read.includes(k)),
      fc.jsonValue({ maxDepth: 4 }).map((v) => j(v)),
    ),
    { maxLength: 3 },
  );

/** Values of every type but `keep`'s. */
function wrongTypes(...keep: ("string" | "number" | "object")[]): fc.Arbitrary<string> {
  const all: fc.Arbitrary<string>[] = [fc.constantFrom("null", "true", "false", "[]", "[1]", '["a"]')];
  if (!keep.includes("string")) all.push(hostileText.map(j));
  if (!keep.includes("number")) all.push(fc.oneof(fc.integer().map(j), fc.constantFrom("1e300", "-1e300", "0.5")));
  if (!keep.includes("object")) all.push(fc.constantFrom("{}", '{"toString":0}', '{"__proto__":{"x":1}}'));
  return fc.oneof(...all);
}

type Breakage =
  | { kind: "none" }
  | { kind: "field"; at: number; field: string; value: string }
  | { kind: "not an event"; at: number; value: string }
  | { kind: "deep"; at: number; depth: number; where: "top" | "event" | "args" }
  | { kind: "top"; text: string }
  | { kind: "cut"; at: number };

const breakage: fc.Arbitrary<Breakage> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: "none" as const }) },
  {
    weight: 4,
    arbitrary: fc.oneof(
      ...(
        [
          ["name", wrongTypes("string")],
          ["ph", wrongTypes("string")],
          ["ts", fc.oneof(wrongTypes("number"), fc.constantFrom("1e300", "-1e300", "9007199254740993"))],
          ["tid", wrongTypes("string", "number").filter((v) => !/^-?\d/.test(v))],
          ["args", wrongTypes("object")],
          ["args.name", wrongTypes("string")],
          ["args.hr", wrongTypes("string")],
        ] as const
      ).map(([field, value]) =>
        fc.record({ kind: fc.constant("field" as const), at: fc.nat(), field: fc.constant(field), value }),
      ),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("not an event" as const),
      at: fc.nat(),
      value: fc.constantFrom("null", "1", '"wait"', "true", "[]", '[{"name":"wait"}]'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("deep" as const),
      at: fc.nat(),
      depth: fc.integer({ min: 65, max: 5_000 }),
      where: fc.constantFrom("top", "event", "args" as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("top" as const),
      text: fc.constantFrom(
        '{"toString":0}',
        "null",
        "7",
        '"traceEvents"',
        "true",
        "{}",
        '{"traceEvents":{}}',
        '{"traceEvents":"[]"}',
        '{"__proto__":{"traceEvents":[]}}',
        '{"traceEvents":[],"otherData":[]}',
        '{"traceEvents":[],"otherData":{"droppedEvents":-1}}',
        '{"traceEvents":[],"otherData":{"droppedEvents":1.5}}',
        '{"traceEvents":[],"otherData":{"droppedEvents":"3"}}',
        '{"traceEvents":[],"otherData":{"droppedEvents":1e300}}',
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }) },
);

const scenario = fc.record({
  events: fc.array(event, { maxLength: 60, size: "medium" }),
  eventExtras: fc.array(extras(["name", "ph", "ts", "tid", "args"]), { maxLength: 60 }),
  argsExtras: fc.array(extras(["name", "hr"]), { maxLength: 60 }),
  topExtras: extras(["traceEvents", "otherData"]),
  bare: fc.boolean(),
  dropped: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
  top: fc.integer({ min: 0, max: 5 }),
  breakage,
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** The file's text, and whether the command must refuse it. */
function write(s: Scenario): { text: string; refuse: boolean } {
  const b = s.breakage;
  if (b.kind === "top") return { text: b.text, refuse: true };
  const n = s.events.length;
  const target = n > 0 && (b.kind === "field" || b.kind === "not an event" || b.kind === "deep") ? b.at % n : -1;
  let refuse = b.kind !== "none" && b.kind !== "field" && b.kind !== "not an event";
  const texts = s.events.map((e, i) => {
    const { members, args } = eventMembers(e);
    let argMembers = args === undefined ? undefined : [...args, ...(s.argsExtras[i] ?? [])];
    const m: Members = [...members, ...(s.eventExtras[i] ?? [])];
    if (i === target && b.kind === "field") {
      // A wrong type where the reader looks: args.name on a thread's name, args.hr on a refusal.
      const applies =
        !b.field.startsWith("args.") ||
        (b.field === "args.name" && e.k === "meta") ||
        (b.field === "args.hr" && e.k === "failed");
      if (applies) {
        refuse = true;
        if (b.field === "args") argMembers = undefined;
        if (b.field.startsWith("args.")) {
          const key = b.field.slice(5);
          argMembers = [...(argMembers ?? []).filter(([k]) => k !== key), [key, b.value]];
        } else {
          const at = m.findIndex(([k]) => k === b.field);
          if (at >= 0) m[at] = [b.field, b.value];
          else m.push([b.field, b.value]);
        }
      }
    }
    if (i === target && b.kind === "deep" && b.where === "args")
      argMembers = [...(argMembers ?? []), ["deep", deep(b.depth)]];
    if (i === target && b.kind === "deep" && b.where === "event") m.push(["deep", deep(b.depth)]);
    if (argMembers !== undefined) m.push(["args", objectText(argMembers)]);
    if (i === target && b.kind === "not an event") {
      refuse = true;
      return b.value;
    }
    return objectText(m);
  });
  const list = `[${texts.join(",")}]`;
  const top: Members = [["traceEvents", list], ["displayTimeUnit", j("ns")], ...s.topExtras];
  if (s.dropped !== undefined) top.push(["otherData", objectText([["droppedEvents", j(s.dropped)]])]);
  if (b.kind === "deep" && (b.where === "top" || n === 0)) top.push(["deep", deep(b.depth)]);
  let text = s.bare ? list : objectText(top);
  if (s.bare && b.kind === "deep" && (b.where === "top" || n === 0)) text = `[${[...texts, deep(b.depth)].join(",")}]`;
  if (b.kind === "cut") text = text.slice(0, b.at % text.length);
  return { text, refuse };
}
const deep = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);

/** Runs `fiberhost trace ...args` in this process: exit code, stdout and stderr lines. */
async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => void out.push(l), err: (l) => void err.push(l), progress: { write: () => true } };
  const code = await main(["trace", ...args], io);
  return { code, out: out.join("\n").split("\n").filter(Boolean), err: err.join("\n").split("\n").filter(Boolean) };
}

/** One line on stderr naming the command, nothing on stdout, exit code 1, no stack. */
function expectRefusal(r: { code: number; out: string[]; err: string[] }, what: string): void {
  expect(r.code, what).toBe(1);
  expect(r.out, what).toEqual([]);
  expect(r.err, what).toHaveLength(1);
  expect(r.err[0], what).toMatch(/^fiberhost trace: /);
  expect(r.err[0], what).not.toMatch(/\n\s+at |TypeError|RangeError/);
  expect(r.err[0], what).not.toMatch(RAW_CONTROL);
}

describe("fiberhost trace FILE with generated hostile JSON (in process)", () => {
  it("prints the model's summary, or one line and exit code 1: never a stack, never a raw control character", async () => {
    const file = join(tmp, "fuzz.json");
    let summaries = 0;
    let refusals = 0;
    let hostileNames = 0;
    await checkProperty(
      fc.asyncProperty(scenario, async (s) => {
        const { text, refuse } = write(s);
        writeFileSync(file, text);
        const json = await run([file, "--json", "--top", String(s.top)]);
        if (refuse) {
          expectRefusal(json, text.slice(0, 200));
          refusals++;
          return;
        }
        expect(json.err).toEqual([]);
        expect(json.code).toBe(0);
        expect(json.out).toHaveLength(1);
        expect(json.out[0]).not.toMatch(RAW_CONTROL);
        const got = JSON.parse(json.out[0]) as TraceSummary;
        const want = expected(s.events, s.bare ? 0 : (s.dropped ?? 0), s.top);
        // (Compared as entries: a "__proto__" among the HRESULT names is an own key on both sides.)
        expect(Object.entries(got.refused)).toEqual(Object.entries(want.refused));
        expect({ ...got, refused: null }).toEqual({ ...want, refused: null });
        const textual = await run([file, "--top", String(s.top)]);
        expect(textual.code).toBe(0);
        expect(textual.err).toEqual([]);
        for (const line of textual.out) expect(line).not.toMatch(RAW_CONTROL);
        expect(textual.out.filter((l) => /^ {4}\s*-?[\d,.]+ ms {2}/.test(l))).toHaveLength(want.waits.longest.length);
        summaries++;
        if (want.waits.longest.some((w) => RAW_CONTROL.test(w.fiber))) hostileNames++;
      }),
      runs(400),
    );
    // Both outcomes were exercised, not one of them only.
    expect(summaries).toBeGreaterThan(20);
    expect(refusals).toBeGreaterThan(20);
    expect(hostileNames, "summaries that list a wait of a fiber whose name holds control characters").toBeGreaterThan(
      5,
    );
  });

  it("a file that is not there, a directory, and an empty file: one line, exit code 1", async () => {
    expectRefusal(await run([join(tmp, "missing.json")]), "missing");
    expectRefusal(await run([tmp]), "a directory");
    writeFileSync(join(tmp, "empty.json"), "");
    expectRefusal(await run([join(tmp, "empty.json")]), "empty");
  });
});

// --- the built command, as a user runs it --------------------------------------------------------

function fiberhost(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/fiberhost.js"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLine(r: { status: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.status).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trimEnd()).not.toMatch(RAW_CONTROL);
}

describe("the fiberhost command with hostile files (subprocess)", () => {
  beforeAll(() => buildDist(), 120_000);

  it('{"toString":0} and arrays nested 100,000 deep: one line each, exit code 1', () => {
    const proto = join(tmp, "proto.json");
    writeFileSync(proto, '{"toString":0}');
    expectOneLine(fiberhost("trace", proto), /^fiberhost trace: .*proto\.json: not a Chrome trace-event file/);
    const nested = join(tmp, "nested.json");
    writeFileSync(nested, deep(100_000));
    expectOneLine(fiberhost("trace", nested), /nest deeper than 64 levels/);
  });

  it('refusals whose hr is "constructor", "__proto__" or "toString" are counted as such; names are escaped', () => {
    const file = join(tmp, "names.json");
    const failed = (hr: string) => ({ name: "LeaveRuntime failed", ph: "i", ts: 1, pid: 1, tid: 1, args: { hr } });
    writeFileSync(
      file,
      JSON.stringify({
        traceEvents: [
          { name: "thread_name", ph: "M", ts: 0, pid: 1, tid: 1, args: { name: "\u001b]0;owned\u0007\u001b[2Jx" } },
          failed("constructor"),
          failed("__proto__"),
          failed("toString"),
          failed("toString"),
          { name: "wait", ph: "i", ts: 10, pid: 1, tid: 1 },
          { name: "wake", ph: "i", ts: 30, pid: 1, tid: 1 },
        ],
      }),
    );
    const json = fiberhost("trace", file, "--json");
    expect(json.status).toBe(0);
    expect(json.stderr).toBe("");
    const s = JSON.parse(json.stdout) as TraceSummary;
    expect(Object.entries(s.refused)).toEqual([
      ["constructor", 1],
      ["__proto__", 1],
      ["toString", 2],
    ]);
    expect(json.stdout).not.toMatch(/"toString":null|native code/);
    expect(s.waits.longest).toEqual([{ fiber: "\u001b]0;owned\u0007\u001b[2Jx", startMs: 0.009, ms: 0.02 }]);
    const text = fiberhost("trace", file);
    expect(text.status).toBe(0);
    for (const line of text.stdout.trimEnd().split("\n")) expect(line).not.toMatch(RAW_CONTROL);
    expect(text.stdout).toMatch(/^ {2}refused {6}constructor 1 · __proto__ 1 · toString 2$/m);
    expect(text.stdout).toContain("\\u001b]0;owned\\u0007\\u001b[2Jx (from 0.009 ms)");
  });

  it("a file name with an escape sequence is shown escaped", () => {
    const r = fiberhost("trace", join(tmp, "\u001b[31mmissing.json"));
    expectOneLine(r, /^fiberhost trace: cannot read .*\\u001b\[31mmissing\.json/);
  });

  it.runIf(existsSync("/dev/full"))("demo --trace /dev/full (a write that fails): one line, exit code 1", () => {
    const r = fiberhost("demo", "--fibers", "20", "--trace", "/dev/full");
    expectOneLine(r, /^fiberhost demo: cannot write the trace to \/dev\/full: ENOSPC/);
  });
});
