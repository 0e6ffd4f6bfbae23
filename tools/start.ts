// `npm start`: the service as users run it. Builds the Worker, starts the
// local stack beside it (tools/local-stack.ts: the embedded PGlite unless
// DATABASE_URL is set, migrations, the Upstash adapter over REDIS_URL) and
// serves the Worker through Miniflare on its own socket (tools/serve.ts).
//   PORT                port of the API, the live page and /docs (default 8787)
//   --persist-to DIR    objects, alarms and queues (default .wrangler/state, as `npm run dev`):
//                       a restart on the same folder flushes what the last run acknowledged
//   --processes N       workerd processes on the port (default: 2 on Linux with 2+ cores and the
//                       cache on, else 1); the first holds the objects (tools/serve.ts)
//   --inspector-port N  workerd's V8 inspector (of the first process), for `npm run profile`
// Vars and secrets: wrangler.toml < .dev.vars < the environment.
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Log, LogLevel } from "miniflare";
import { ensureDevVars, HOST, portFromEnv, ROOT, requirePortFree, startLocalStack } from "./local-stack.js";
import { buildWorker, defaultProcesses, processesOption, runUntilSignal, serveWorker } from "./serve.js";

const log = (line: string) => console.error(`start: ${line}`);

function readOptions() {
  const { values } = parseArgs({
    options: {
      "persist-to": { type: "string" },
      "inspector-port": { type: "string" },
      processes: { type: "string" },
    },
  });
  const inspector = values["inspector-port"];
  if (inspector !== undefined && !/^[0-9]{1,5}$/.test(inspector)) {
    throw new Error(`--inspector-port ${inspector} is not a port number`);
  }
  return {
    port: portFromEnv("PORT", 8787),
    persistTo: resolve(values["persist-to"] ?? join(ROOT, ".wrangler/state")),
    inspectorPort: inspector === undefined ? undefined : Number(inspector),
    processes: processesOption(values.processes),
  };
}

runUntilSignal("start", async (buildDir, onStop) => {
  const { port, persistTo, inspectorPort, processes: asked } = readOptions();
  await requirePortFree(port, "the API", "PORT");
  ensureDevVars(log);
  const worker = await buildWorker(join(ROOT, "wrangler.toml"), buildDir);
  const stack = await startLocalStack(log);
  onStop(stack.close);
  // The local stack's adapter (REDIS_URL), or an Upstash endpoint given directly.
  const cacheOn = Boolean(stack.bindings.UPSTASH_REDIS_REST_URL || process.env.UPSTASH_REDIS_REST_URL);
  const processes = asked ?? defaultProcesses(cacheOn);
  if (processes > 1 && !cacheOn) {
    log("several processes without the cache (REDIS_URL): GET /v1/me/bids lists a first bid placed");
    log("through another process only after the next flush (within 5 s)");
  }
  const served = await serveWorker({
    worker,
    host: HOST,
    port,
    persistTo,
    databaseUrl: stack.databaseUrl,
    bindings: stack.bindings,
    inspectorPort,
    log: new Log(LogLevel.WARN),
    processes,
  });
  onStop(() => served.dispose());
  const url = `http://${HOST}:${port}`;
  console.log(
    [
      `Serving ${url}  (Ctrl-C stops)`,
      `  Live page   ${url}/`,
      `  API docs    ${url}/docs`,
      `  Database    ${stack.labels.database}`,
      `  Cache       ${stack.labels.cache}`,
      `  State       ${persistTo}`,
      `  Processes   ${processes === 1 ? "1 workerd" : `${processes} workerd on the port, the objects in the first`}`,
    ].join("\n"),
  );
});
