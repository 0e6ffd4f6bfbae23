/** The contract's time format: ISO 8601 in UTC with milliseconds, from epoch milliseconds. */
export const toIso = (ms: number): string => new Date(ms).toISOString();
