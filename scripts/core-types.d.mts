/** The generated module's text (scripts/core-types.mjs); throws when assembly/ and the compiled core's globals disagree. */
export function coreTypesModule(dir: string, globals: Record<string, number>): string;
