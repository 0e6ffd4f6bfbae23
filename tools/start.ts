// `npm start`: the service as users run it. Builds the Worker, starts the
// local stack beside it (tools/local-stack.ts: the embedded PGlite unless
// DATABASE_URL is set, migrations, the Upstash adapter over REDIS_URL) and
// serves the Worker through Miniflare on its own socket (tools/serve.ts).
//   PORT                port of the API, the live page and /docs (default 8787)
//   --persist-to DIR    objects, alarms and queues (default .wrangler/state, as `npm run dev`):
//                       a restart on the same folder flushes what the last run acknowledged
//   --inspector-port N  workerd's V8 inspector, for `npm run profile`
// Vars and secrets: wrangler.toml < .dev.vars < the environment.
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Log, LogLevel } from "miniflare";
import { ensureDevVars, HOST, portFromEnv, ROOT, requirePortFree, startLocalStack } from "./local-stack.js";
import { buildWorker, runUntilSignal, serveWorker } from "./serve.js";

const log = (line: string) => console.error(`start: ${line}`);

function readOptions() {
  const { values } = parseArgs({
    options: { "persist-to": { type: "string" }, "inspector-port": { type: "string" } },
  });
  const inspector = values["inspector-port"];
  if (inspector !== undefined && !/^[0-9]{1,5}$/.test(inspector)) {
    throw new Error(`--inspector-port ${inspector} is not a port number`);
  }
  return {
    port: portFromEnv("PORT", 8787),
    persistTo: resolve(values["persist-to"] ?? join(ROOT, ".wrangler/state")),
    inspectorPort: inspector === undefined ? undefined : Number(inspector),
  };
}

runUntilSignal("start", async (buildDir, onStop) => {
  const { port, persistTo, inspectorPort } = readOptions();
  await requirePortFree(port, "the API", "PORT");
  ensureDevVars(log);
  const worker = await buildWorker(join(ROOT, "wrangler.toml"), buildDir);
  const stack = await startLocalStack(log);
  onStop(stack.close);
  const miniflare = await serveWorker({
    worker,
    host: HOST,
    port,
    persistTo,
    databaseUrl: stack.databaseUrl,
    bindings: stack.bindings,
    inspectorPort,
    log: new Log(LogLevel.WARN),
  });
  onStop(() => miniflare.dispose());
  const url = `http://${HOST}:${port}`;
  console.log(
    [
      `Serving ${url}  (Ctrl-C stops)`,
      `  Live page   ${url}/`,
      `  API docs    ${url}/docs`,
      `  Database    ${stack.labels.database}`,
      `  Cache       ${stack.labels.cache}`,
      `  State       ${persistTo}`,
    ].join("\n"),
  );
});
