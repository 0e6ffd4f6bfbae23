// Starts and stops a Worker of load/ (its own wrangler.toml: the platform
// floor, the naive design) on a free loopback port, served the way the
// service under test is: like `npm start` (tools/serve-worker.ts), or under
// wrangler dev when the benchmark compares `--runner dev`.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, withPlaceholderPassword } from "../../tools/net.js";
import {
  exited,
  keepOutputTail,
  signalGroup,
  waitForAnswer,
  waitForExit,
} from "../../tools/process-group.js";
import type { Runner } from "../../tools/service-process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export interface BenchWorker {
  url: URL;
  /** The root of its process group (serve-worker or wrangler, and workerd). */
  pid: number;
  stop(): Promise<void>;
}

export async function startBenchWorker(options: {
  runner: Runner;
  /** Path of the Worker's wrangler.toml, from the project root. */
  config: string;
  label: string;
  vars?: Record<string, string>;
  /** Where its Hyperdrive binding connects, if it has one. */
  databaseUrl?: string;
}): Promise<BenchWorker> {
  const config = join(ROOT, options.config);
  const port = await freePort();
  const vars = Object.entries(options.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  // Local state (and nothing else) goes outside the project.
  const persistTo = mkdtempSync(join(tmpdir(), "bench-worker-"));
  const args =
    options.runner === "start"
      ? ["--import", "tsx", join(ROOT, "tools/serve-worker.ts"), "--config", config, ...vars]
      : [
          join(ROOT, "node_modules/.bin/wrangler"),
          "dev",
          "--config",
          config,
          "--ip",
          HOST,
          "--port",
          String(port),
          "--inspector-port",
          String(await freePort()),
          "--persist-to",
          persistTo,
          "--log-level",
          "error",
          "--show-interactive-dev-session=false",
          ...vars,
        ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    // Its own process group, so stop() reaches workerd too.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: options.databaseUrl ?? "",
      ...(options.databaseUrl === undefined
        ? {}
        : {
            CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: withPlaceholderPassword(
              options.databaseUrl,
            ),
          }),
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      X_LOCAL_OBSERVABILITY: "false",
    },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.label} did not start`);
  const output = keepOutputTail(child, 4_000);
  // Never leave it running, whatever way the caller ends.
  const killOnExit = () => signalGroup(pid, "SIGKILL");
  process.once("exit", killOnExit);

  const stop = async () => {
    process.off("exit", killOnExit);
    signalGroup(pid, "SIGTERM");
    if (!(await waitForExit(child, STOP_TIMEOUT_MS))) signalGroup(pid, "SIGKILL");
    rmSync(persistTo, { recursive: true, force: true });
    // wrangler's build folder next to the config: nothing in it outlives the run.
    rmSync(join(dirname(config), ".wrangler"), { recursive: true, force: true });
  };

  const url = new URL(`http://${HOST}:${port}`);
  if (await waitForAnswer(child, url, READY_TIMEOUT_MS, () => true)) return { url, pid, stop };
  const reason = exited(child) ? "exited" : "did not answer";
  await stop();
  throw new Error(`${options.label} ${reason} on ${url.origin}:\n${output()}`);
}
