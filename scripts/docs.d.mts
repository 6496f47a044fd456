/** The text a `<!-- gen SPEC -->` marker stands for (scripts/docs.mjs); throws on a marker that names nothing. */
export function generatedValue(spec: string): string;
/** A file's text with every generated block made again, and a line for each block that changed. */
export function regenerate(file: string, text: string): { text: string; stale: string[] };
/** Regenerates README.md and docs/*.md; with `check`, writes nothing. Answers the stale blocks. */
export function docs(options?: { check?: boolean }): string[];
/** After a full benchmark run: every generated block rewritten, and a line that says so. */
export function writeDocs(): void;
