/** The house-format offences in one file's text (scripts/check-assembly-format.mjs), as [line, what]. */
export function offences(text: string): [number, string][];
