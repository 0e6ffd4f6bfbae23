// Starts and stops the naive Worker (load/naive/) under wrangler dev on a
// free loopback port, against the product's database.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, withPlaceholderPassword } from "../tools/net.js";
import { exited, signalGroup, waitForExit } from "./process-group.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CONFIG = join(ROOT, "load/naive/wrangler.toml");
const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export interface NaiveWorker {
  url: URL;
  stop(): Promise<void>;
}

export async function startNaiveWorker(options: {
  databaseUrl: string;
  jwtSecret: string;
}): Promise<NaiveWorker> {
  const port = await freePort();
  const inspectorPort = await freePort();
  // Local state (and nothing else) goes outside the project.
  const persistTo = mkdtempSync(join(tmpdir(), "naive-bench-"));
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "node_modules/.bin/wrangler"),
      "dev",
      "--config",
      CONFIG,
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
      "--var",
      `JWT_SECRET:${options.jwtSecret}`,
    ],
    {
      cwd: ROOT,
      // Its own process group, so stop() reaches workerd too.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: withPlaceholderPassword(
          options.databaseUrl,
        ),
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_SEND_METRICS: "false",
      },
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error("wrangler dev for the naive Worker did not start");
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  // Never leave it running, whatever way the bench ends.
  const killOnExit = () => signalGroup(pid, "SIGKILL");
  process.once("exit", killOnExit);

  const stop = async () => {
    process.off("exit", killOnExit);
    signalGroup(pid, "SIGINT");
    if (!(await waitForExit(child, STOP_TIMEOUT_MS))) signalGroup(pid, "SIGKILL");
    rmSync(persistTo, { recursive: true, force: true });
    // wrangler's build folder next to the config: nothing in it outlives the run.
    rmSync(join(ROOT, "load/naive/.wrangler"), { recursive: true, force: true });
  };

  const url = new URL(`http://${HOST}:${port}`);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (let attempt = 0; attempt < 600 && Date.now() < deadline && !exited(child); attempt++) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return { url, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  await stop();
  throw new Error(`the naive Worker did not start on ${url.origin}:\n${output.trim()}`);
}
