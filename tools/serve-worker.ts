// Serves any Worker of this repository the way `npm start` serves the
// product, without the local stack: the benchmarks' floor and naive Workers.
//   node --import tsx tools/serve-worker.ts --config load/benchmarks/floor/wrangler.toml [--persist-to DIR]
//     [--var NAME:value ...] [--processes N]
//   PORT (default 8787); DATABASE_URL, when the Worker has a Hyperdrive binding
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Log, LogLevel } from "miniflare";
import { HOST, portFromEnv, requirePortFree } from "./local-stack.js";
import { buildWorker, processesOption, runUntilSignal, serveWorker } from "./serve.js";

runUntilSignal("serve-worker", async (buildDir, onStop) => {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      "persist-to": { type: "string" },
      var: { type: "string", multiple: true },
      processes: { type: "string" },
    },
  });
  if (values.config === undefined) throw new Error("--config <wrangler.toml> is required");
  const vars: Record<string, string> = {};
  for (const pair of values.var ?? []) {
    const colon = pair.indexOf(":");
    if (colon < 1) throw new Error(`--var ${pair}: write it as NAME:value`);
    vars[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  const port = portFromEnv("PORT", 8787);
  await requirePortFree(port, "the Worker", "PORT");
  const worker = await buildWorker(resolve(values.config), buildDir);
  const persistTo = values["persist-to"] ?? mkdtempSync(join(tmpdir(), "serve-worker-"));
  if (values["persist-to"] === undefined)
    onStop(async () => rmSync(persistTo, { recursive: true, force: true }));
  const processes = processesOption(values.processes) ?? 1;
  const served = await serveWorker({
    worker,
    host: HOST,
    port,
    persistTo,
    databaseUrl: process.env.DATABASE_URL || undefined,
    bindings: vars,
    log: new Log(LogLevel.WARN),
    processes,
  });
  onStop(() => served.dispose());
  console.log(`Serving ${worker.name} on http://${HOST}:${port}`);
});
