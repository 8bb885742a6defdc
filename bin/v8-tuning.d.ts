/** Types of bin/v8-tuning.js (plain JavaScript: bin/ runs before anything is compiled). */
export declare const TUNING_FLAGS: readonly string[];
export declare function tuningFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[];
