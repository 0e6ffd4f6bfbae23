// Starts and stops a Worker of load/ (its own wrangler.toml) under wrangler
// dev on a free loopback port: the naive design, the platform floor.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../tools/net.js";
import { exited, signalGroup, waitForExit } from "./process-group.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export interface DevWorker {
  url: URL;
  /** The wrangler process, leader of the group that holds its workerd. */
  pid: number;
  stop(): Promise<void>;
}

export async function startDevWorker(options: {
  /** Path of the Worker's wrangler.toml, from the project root. */
  config: string;
  label: string;
  vars?: Record<string, string>;
  /** Extra environment, e.g. the Hyperdrive binding's local connection string. */
  env?: Record<string, string>;
}): Promise<DevWorker> {
  const config = join(ROOT, options.config);
  const port = await freePort();
  const inspectorPort = await freePort();
  // Local state (and nothing else) goes outside the project.
  const persistTo = mkdtempSync(join(tmpdir(), "worker-dev-"));
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "node_modules/.bin/wrangler"),
      "dev",
      "--config",
      config,
      "--ip",
      HOST,
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistTo,
      "--log-level",
      "error",
      "--show-interactive-dev-session=false",
      ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ],
    {
      cwd: ROOT,
      // Its own process group, so stop() reaches workerd too.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        ...options.env,
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_SEND_METRICS: "false",
        // As npm run dev runs the service (tools/dev.ts): without the local observability collector.
        X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
      },
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`wrangler dev for ${options.label} did not start`);
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  // Never leave it running, whatever way the caller ends.
  const killOnExit = () => signalGroup(pid, "SIGKILL");
  process.once("exit", killOnExit);

  const stop = async () => {
    process.off("exit", killOnExit);
    signalGroup(pid, "SIGINT");
    if (!(await waitForExit(child, STOP_TIMEOUT_MS))) signalGroup(pid, "SIGKILL");
    rmSync(persistTo, { recursive: true, force: true });
    // wrangler's build folder next to the config: nothing in it outlives the run.
    rmSync(join(dirname(config), ".wrangler"), { recursive: true, force: true });
  };

  const url = new URL(`http://${HOST}:${port}`);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (let attempt = 0; attempt < 600 && Date.now() < deadline && !exited(child); attempt++) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return { url, pid, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  await stop();
  throw new Error(`${options.label} did not start on ${url.origin}:\n${output.trim()}`);
}
