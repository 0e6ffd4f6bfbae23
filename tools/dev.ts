// `npm run dev`: the edit loop. wrangler dev (reloads on every save) with the
// local stack of tools/local-stack.ts beside it. `npm start` serves the same
// Worker without wrangler's dev proxy, as users and benchmarks run it.
//   PORT       port of the API (default 8787)
//   DB_DRIVER  hyperdrive | neon, passed to the Worker
//   and the local stack's variables (tools/local-stack.ts): DATABASE_URL, REDIS_URL, ...
// Extra arguments go to wrangler dev: npm run dev -- --log-level error
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import {
  ensureDevVars,
  HOST,
  type LocalStack,
  portFromEnv,
  ROOT,
  requirePortFree,
  startLocalStack,
} from "./local-stack.js";
import { errorMessage, withPlaceholderPassword } from "./net.js";

const log = (line: string) => console.log(`dev: ${line}`);

let stack: LocalStack | undefined;
let wrangler: ChildProcess | undefined;
let stopping = false;
let stopped: Promise<never> | undefined;

/** Stops what was started, once, then exits. */
function stopAll(exitCode: number): Promise<never> {
  stopped ??= (async () => {
    await stack?.close();
    process.exit(exitCode);
  })();
  return stopped;
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  const child = wrangler;
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    // wrangler stops workerd itself; its exit handler below stops the rest.
    child.kill(signal);
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  } else {
    void stopAll(0);
  }
}

/** Resolves once the API answers HTTP at all, or false when wrangler exits first. */
async function waitUntilServing(url: string, child: ChildProcess): Promise<boolean> {
  while (child.exitCode === null && child.signalCode === null) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return false;
}

async function main(): Promise<void> {
  const apiPort = portFromEnv("PORT", 8787);
  await requirePortFree(apiPort, "the API, wrangler dev", "PORT");
  ensureDevVars(log);
  stack = await startLocalStack(log);

  const vars = { ...stack.bindings, ...(process.env.DB_DRIVER ? { DB_DRIVER: process.env.DB_DRIVER } : {}) };
  const args = [
    join(ROOT, "node_modules/.bin/wrangler"),
    "dev",
    "--ip",
    HOST,
    "--port",
    String(apiPort),
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ...process.argv.slice(2),
  ];
  // process.execPath is the Node 22 that npm put on PATH; wrangler refuses older ones.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: "inherit",
    env: {
      ...process.env,
      CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: withPlaceholderPassword(stack.databaseUrl),
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      // wrangler's local observability collector records every invocation's spans in its own
      // isolate and SQLite: more CPU than the Worker itself under load. Cloudflare collects
      // them off the request path; here it is off unless asked for.
      X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
    },
  });
  wrangler = child;
  child.on("error", (error) => {
    console.error(`dev: cannot start wrangler: ${errorMessage(error)}`);
    void stopAll(1);
  });
  child.on("exit", (code) => void stopAll(stopping ? 0 : (code ?? 1)));

  const apiUrl = `http://${HOST}:${apiPort}`;
  if (await waitUntilServing(apiUrl, child)) {
    console.log(
      [
        "",
        "Local stack ready (wrangler dev, the edit loop: `npm start` serves it as users run it):",
        `  Live page   ${apiUrl}/`,
        `  API docs    ${apiUrl}/docs`,
        `  Database    ${stack.labels.database}`,
        `  Cache       ${stack.labels.cache}`,
        `  Neon proxy  ${stack.labels.neonProxy} (used with DB_DRIVER=neon)`,
        "  Token       npm run token -- --sub 1 --role admin",
        "Ctrl-C stops everything.",
        "",
      ].join("\n"),
    );
  }
}

process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
// Every startup failure is one line: the port, URL or server it is about, no stack.
main().catch((error: unknown) => {
  console.error(`dev: ${errorMessage(error)}`);
  void stopAll(1);
});
