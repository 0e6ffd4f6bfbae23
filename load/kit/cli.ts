// Command-line handling shared by the load scripts: what every tool has
// (tools/cli.ts: parsing, exit codes, the API's URL on loopback), value checks,
// the service's runner, the database and Redis URLs, Ctrl-C and the verdict.
import { loopbackUrl, UsageError } from "../../tools/cli.js";
import { RUNNERS, type Runner } from "../../tools/service-process.js";

export { defaultApiUrl, loopbackApiUrl, parseOptions, runCommand, UsageError } from "../../tools/cli.js";

/** The first Ctrl-C aborts `abort` (the script stops at its next step); the second quits at once. */
export function stopOnInterrupt(abort: AbortController, message: string): void {
  process.on("SIGINT", () => {
    if (abort.signal.aborted) process.exit(130);
    console.log(`\n${message} (Ctrl-C again to quit now)`);
    abort.abort();
  });
}

export function integerOption(
  name: string,
  raw: string | undefined,
  fallback: number,
  range: { min: number; max: number },
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^[0-9]+$/.test(raw) || value < range.min || value > range.max) {
    throw new UsageError(`--${name} must be an integer from ${range.min} to ${range.max}, not ${raw}`);
  }
  return value;
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "60s", "2m", "500ms", "1.5"; a bare number is seconds. */
export function durationOption(
  name: string,
  raw: string | undefined,
  fallbackMs: number,
  range: { minMs: number; maxMs: number },
): number {
  if (raw === undefined) return fallbackMs;
  const match = raw.trim().match(/^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/);
  const unit = DURATION_UNITS_MS[match?.[2] ?? "s"];
  if (!match?.[1] || unit === undefined) {
    throw new UsageError(`--${name} must be a duration such as 60s, 2m or 500ms, not ${raw}`);
  }
  const ms = Math.round(Number(match[1]) * unit);
  if (ms < range.minMs || ms > range.maxMs) {
    throw new UsageError(`--${name} must be between ${range.minMs / 1000} s and ${range.maxMs / 1000} s`);
  }
  return ms;
}

/** One of `choices`, the first when the option is left out. */
export function choiceOption<const C extends string>(
  name: string,
  raw: string | undefined,
  choices: readonly C[],
): C {
  const choice = choices.find((c) => c === (raw ?? choices[0]));
  if (choice === undefined) throw new UsageError(`--${name} must be ${choices.join(" or ")}, not ${raw}`);
  return choice;
}

/** --session: a session id is a UUID; anything else is a bad command line. */
export function sessionIdOption(raw: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(raw)) {
    throw new UsageError(`--session must be a session id (a UUID), not ${raw}`);
  }
  return raw;
}

/** --runner: how the service under test is served, `npm start` by default (tools/service-process.ts). */
export const runnerOption = (raw: string | undefined): Runner => choiceOption("runner", raw, RUNNERS);

/** --database-url, else DATABASE_URL; a loopback PostgreSQL only. */
export function databaseUrlOption(raw: string | undefined): string {
  const value = raw ?? process.env.DATABASE_URL;
  if (!value) {
    throw new UsageError(
      "the consistency check needs the database: pass --database-url or set DATABASE_URL " +
        "(npm run dev prints it), e.g. postgres://postgres@127.0.0.1:5432/bidding",
    );
  }
  loopbackUrl("the database URL", value, /^postgres(ql)?:$/);
  return value;
}

/** --redis-url, else REDIS_URL (or `fallback`); a loopback Redis only. */
export function redisUrlOption(raw: string | undefined, fallback?: string): string | undefined {
  const value = raw ?? process.env.REDIS_URL ?? fallback;
  if (value !== undefined) loopbackUrl("--redis-url", value, /^redis:$/);
  return value;
}

/** The exit code of a run: 0, or 1 after a `FAILED:` line naming every failure (the empty strings are none). */
export function verdict(failures: readonly string[]): number {
  const failed = failures.filter((failure) => failure !== "");
  if (failed.length > 0) console.log(`FAILED: ${failed.join("; ")}`);
  return failed.length > 0 ? 1 : 0;
}
