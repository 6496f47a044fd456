// Command-line flags, parsed by Node's util.parseArgs and checked here: any mistake becomes a
// UsageError, which main() prints as one line naming the flag and answers with exit code 2.

import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {
  override name = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Parses `argv` for `command` (strict: unknown flags and stray arguments are errors). */
export function parseCommand(command: string, argv: string[], options: Options, positionals = 0): Parsed {
  const args = joinNegativeValues(argv, options);
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true }) as Parsed;
  } catch (err) {
    throw new UsageError(`${command}: ${describeParseError(err)}`);
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`${command}: unexpected argument '${parsed.positionals[positionals]}'`);
  }
  return parsed;
}

// parseArgs refuses `--duration -1` as ambiguous; a value that is a negative number is meant as
// the flag's value, and is then refused for what it is (a negative duration).
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith("--") ? a.slice(2) : undefined;
    const next = argv[i + 1];
    if (name && options[name]?.type === "string" && next !== undefined && /^-\d|^-\.\d|^-Infinity$/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function describeParseError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = String(e.message ?? err);
  const flag = /'(-[^', ]+)/.exec(message)?.[1];
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown flag ${flag ?? message}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return /argument missing|ambiguous/.test(message)
        ? `${flag ?? "a flag"} needs a value`
        : `${flag ?? "a flag"} takes no value`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${/'([^']+)'/.exec(message)?.[1] ?? ""}`.trim();
    default:
      return message.split("\n")[0]!;
  }
}

/** A whole number in min … max, or a UsageError naming the flag. */
export function integerFlag(
  command: string,
  flag: string,
  value: string | boolean | undefined,
  fallback: number,
  min: number,
  max: number,
  /** What else the flag takes, said after the range ("or 'auto'"). */
  orElse?: string,
): number {
  if (value === undefined) return fallback;
  const n = typeof value === "string" && /^[+-]?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${command}: --${flag} must be a whole number from ${min.toLocaleString("en-US")} to ${max.toLocaleString("en-US")}${orElse ? ` ${orElse}` : ""}, not '${String(value)}'`,
    );
  }
  return n;
}

/** A number of seconds ≥ 0 (fractions allowed), or a UsageError naming the flag. */
export function secondsFlag(
  command: string,
  flag: string,
  value: string | boolean | undefined,
  fallback: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > max) {
    throw new UsageError(`${command}: --${flag} must be a number of seconds from 0 to ${max}, not '${String(value)}'`);
  }
  return n;
}
