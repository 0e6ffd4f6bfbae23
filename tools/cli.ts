// Command lines of the terminal tools (npm run demo here, and every load/ script
// through load/kit/cli.ts): option parsing, the API's URL on this machine, and
// one place that turns failures into an exit code.
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { errorMessage } from "./net.js";

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

/** Every tool's options, parsed one way; `--help` is always accepted (runCommand answers it). */
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

/** The API on this machine: http://127.0.0.1:$PORT, the port `npm start` and `npm run dev` serve on, else 8787. */
export function defaultApiUrl(): string {
  const port = process.env.PORT ?? "";
  if (port === "") return "http://127.0.0.1:8787";
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new UsageError(`PORT=${port} is not a port number (1-65535)`);
  }
  return `http://127.0.0.1:${port}`;
}

/** A URL of this machine: the tools generate load or test data, and only ever against loopback. */
export function loopbackUrl(what: string, raw: string, protocols: RegExp): URL {
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
