// The formatter check for assembly/. AssemblyScript puts decorators on functions (`@inline function`),
// which Biome and Prettier refuse to parse (Biome: "Decorators are not valid here"), so neither can
// format it. This checks the house rules Biome applies to the rest of the repository, line by line:
// LF line endings, no tabs, no trailing whitespace, lines of at most 120 characters, indentation in
// steps of two spaces (a block comment's ` *` continuation lines excepted), one final newline.
// `node scripts/check-assembly-format.mjs [dir]` prints each offence as file:line and exits 1 if any.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const dir = process.argv[2] ?? join(root, "assembly");
const LINE_WIDTH = 120;

/** The offences in one file's text, as [line number, what is wrong]. */
export function offences(text) {
  const found = [];
  if (text.length > 0 && !text.endsWith("\n")) found.push([text.split("\n").length, "no final newline"]);
  if (text.endsWith("\n\n")) found.push([text.split("\n").length - 1, "blank lines at the end"]);
  const lines = text.split("\n");
  let inComment = false;
  lines.forEach((line, i) => {
    const n = i + 1;
    if (line.includes("\r")) found.push([n, "CR (line endings are LF)"]);
    if (line.includes("\t")) found.push([n, "tab"]);
    if (/[ \t]+\r?$/.test(line)) found.push([n, "trailing whitespace"]);
    if ([...line].length > LINE_WIDTH) found.push([n, `${[...line].length} characters (at most ${LINE_WIDTH})`]);
    const indent = /^ */.exec(line)[0].length;
    const continuation = inComment && /^ *\*/.test(line);
    if (line.trim() !== "" && !continuation && indent % 2 !== 0) found.push([n, `indented by ${indent} spaces`]);
    // Enough of a block comment's state for the ` *` exception; a `/*` inside a string does not occur here.
    const open = line.lastIndexOf("/*");
    const close = line.lastIndexOf("*/");
    if (open > close) inComment = true;
    else if (close >= 0) inComment = false;
  });
  return found;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let count = 0;
  const files = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts"))
    .sort();
  for (const f of files) {
    for (const [line, what] of offences(readFileSync(join(dir, f), "utf8"))) {
      console.log(`${relative(root, join(dir, f))}:${line}: ${what}`);
      count++;
    }
  }
  if (count > 0) {
    console.log(`assembly/: ${count} formatting offence(s) in ${files.length} files`);
    process.exit(1);
  }
  console.log(`assembly/: ${files.length} files follow the house format`);
}
