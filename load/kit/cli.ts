// Command-line handling shared by the load scripts: option parsing, value
// checks, Ctrl-C, and one place that turns failures into an exit code.
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { errorMessage } from "../../tools/net.js";
import { RUNNERS, type Runner } from "../../tools/service-process.js";

/** A bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/**
 * The script's arguments without a leading `--`: `npm run x -- --flag` drops it, but
 * `npx tsx load/runs/x.ts -- --flag` passes it on, and parseArgs would read it as a positional.
 */
function scriptArgv(): string[] {
  const argv = process.argv.slice(2);
  return argv[0] === "--" ? argv.slice(1) : argv;
}

/** Every load script's options, parsed one way; `--help` is always accepted (runCommand answers it). */
export function parseOptions<const O extends ParseArgsOptionsConfig>(options: O) {
  try {
    return parseArgs({ args: scriptArgv(), options: { ...options, help: { type: "boolean" } }, strict: true })
      .values;
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
}

/**
 * Runs a script's main function: `--help` prints the usage, a UsageError
 * prints the message and the usage (exit 2), any other failure one line (exit 1).
 */
export function runCommand(name: string, usage: string, main: () => Promise<number>): void {
  if (scriptArgv().includes("--help")) {
    console.log(usage);
    return;
  }
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const usageError = error instanceof UsageError;
      console.error(`${name}: ${errorMessage(error)}${usageError ? `\n${usage}` : ""}`);
      process.exitCode = usageError ? 2 : 1;
    },
  );
}

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

/** --runner: how the service under test is served, `npm start` by default (tools/service-process.ts). */
export const runnerOption = (raw: string | undefined): Runner => choiceOption("runner", raw, RUNNERS);

/** A URL of this machine: these scripts generate load, and only ever against loopback. */
function loopbackUrl(what: string, raw: string, protocols: RegExp): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${what} is not a URL: ${raw}`);
  }
  if (!protocols.test(url.protocol)) throw new UsageError(`${what} must be ${protocols.source}, not ${raw}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (host !== "localhost" && host !== "::1" && !/^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(host)) {
    throw new UsageError(`refusing ${url.host} for ${what}: only loopback (127.0.0.1, localhost, ::1)`);
  }
  return url;
}

/** The API's base URL: the service root on loopback. */
export function loopbackApiUrl(raw: string): URL {
  const url = loopbackUrl("--url", raw, /^http:$/);
  if (url.pathname !== "/" || url.search !== "") {
    throw new UsageError(`--url must be the service root, e.g. http://127.0.0.1:8787, not ${raw}`);
  }
  return url;
}

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
