// `npm run dev` on free ports, with a scratch embedded database and no cache,
// for tests that need the Worker as wrangler dev serves it (static assets
// included, which the vitest pool does not put in front of the Worker).
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exited, signalGroup, waitForExit } from "../../load/process-group.js";
import { freePort } from "../../tools/net.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const READY_TIMEOUT_MS = 90_000;

export interface DevStack {
  url: string;
  /** The last lines wrangler and the dev script printed. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export async function startDevStack(): Promise<DevStack> {
  const scratch = mkdtempSync(join(tmpdir(), "bidding-browser-"));
  const logFile = join(scratch, "dev.log");
  const [port, pglitePort, inspectorPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    PGLITE_PORT: String(pglitePort),
    PGLITE_DATA_DIR: join(scratch, "pglite"),
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const log = openSync(logFile, "a");
  // Its own process group, so the dev script, wrangler and workerd stop together.
  const child = spawn(
    "npm",
    ["run", "--silent", "dev", "--", "--log-level", "error", "--inspector-port", String(inspectorPort)],
    { cwd: ROOT, env, detached: true, stdio: ["ignore", log, log] },
  );
  const url = `http://127.0.0.1:${port}`;
  const logTail = (lines = 30) =>
    readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  const stop = async () => {
    if (child.pid !== undefined && !exited(child)) {
      signalGroup(child.pid, "SIGTERM");
      if (!(await waitForExit(child, 15_000))) signalGroup(child.pid, "SIGKILL");
    }
    rmSync(scratch, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !exited(child)) {
    try {
      await fetch(`${url}/health`);
      return { url, logTail, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const tail = logTail();
  await stop();
  throw new Error(`npm run dev did not start on ${url}:\n${tail}`);
}
