/** The Chromium binary the browser tests and benchmarks launch (CHROMIUM_PATH, else Debian's). */
export declare const chromiumPath: string;
/** The flags every headless launch uses. */
export declare const chromiumArgs: string[];
