// This service for the side-by-side benchmark, started the way a developer
// starts it: `npm run dev` (so it follows whatever the dev stack becomes), in
// its own process group, on ports chosen once (a restart serves the same URL),
// with wrangler's state in a folder that survives a SIGKILL of the whole group.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort, isPortFree } from "../../tools/net.js";
import { groupMembers, WranglerBuildFolders } from "../faults/wrangler-process.js";
import { exited, keepOutputTail, signalGroup, waitForAnswer, waitForExit } from "../process-group.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 120_000;
/** `npm run dev` gives wrangler 10 s to stop on Ctrl-C before it kills it. */
const STOP_TIMEOUT_MS = 15_000;
const GONE_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 6_000;

export interface ProductStackOptions {
  /** The scratch database (DATABASE_URL of `npm run dev`). */
  databaseUrl: string;
  redisUrl: string;
  persistTo: string;
  /** `--var NAME:value` for wrangler, through `npm run dev -- …`. */
  vars: Record<string, string>;
}

export interface KillFigures {
  processes: string[];
  /** From the SIGKILL until every process of the group was gone and the ports free. */
  goneAfterMs: number;
  survivors: number;
}

export class ProductStack {
  private child: ChildProcess | undefined;
  private readOutput = () => "";
  private readonly buildFolders = new WranglerBuildFolders();

  private constructor(
    private readonly options: ProductStackOptions,
    private readonly ports: { api: number; upstash: number; inspector: number },
  ) {}

  static async create(options: ProductStackOptions): Promise<ProductStack> {
    return new ProductStack(options, {
      api: await freePort(),
      upstash: await freePort(),
      inspector: await freePort(),
    });
  }

  get url(): URL {
    return new URL(`http://${HOST}:${this.ports.api}`);
  }

  /** `npm run dev`'s pid: the root of the tree (dev script, Upstash adapter, wrangler, workerd). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  outputTail(): string {
    return this.readOutput();
  }

  async start(): Promise<void> {
    if (this.child && !exited(this.child)) throw new Error("npm run dev is already running");
    const args = [
      "run",
      "--silent",
      "dev",
      "--",
      "--log-level",
      "error",
      "--show-interactive-dev-session=false",
      "--inspector-port",
      String(this.ports.inspector),
      "--persist-to",
      this.options.persistTo,
      ...Object.entries(this.options.vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ];
    this.buildFolders.noteExisting();
    const child = spawn("npm", args, {
      cwd: ROOT,
      // Its own process group: one signal reaches npm, the dev script, wrangler and workerd.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PORT: String(this.ports.api),
        UPSTASH_PORT: String(this.ports.upstash),
        DATABASE_URL: this.options.databaseUrl,
        REDIS_URL: this.options.redisUrl,
      },
    });
    this.child = child;
    this.readOutput = keepOutputTail(child, OUTPUT_TAIL_CHARS);

    if (
      await waitForAnswer(child, new URL("/health", this.url), READY_TIMEOUT_MS, (response) => response.ok)
    ) {
      this.buildFolders.claimNew();
      return;
    }
    const reason = exited(child) ? "exited" : `was not healthy within ${READY_TIMEOUT_MS / 1000} s`;
    await this.stop();
    throw new Error(`npm run dev ${reason} on ${this.url.origin}:\n${this.outputTail()}`);
  }

  /** SIGKILL to the whole group: nothing gets to flush or shut down. */
  async kill(): Promise<KillFigures> {
    const child = this.child;
    if (child?.pid === undefined) return { processes: [], goneAfterMs: 0, survivors: 0 };
    const pgid = child.pid;
    const processes = groupMembers(pgid).map((member) => member.command);
    signalGroup(pgid, "SIGKILL");
    const killedAt = Date.now();
    await waitForExit(child, GONE_TIMEOUT_MS);
    // The kernel frees a killed process' sockets as it tears it down: wait for that, bounded.
    while (Date.now() - killedAt < GONE_TIMEOUT_MS && !(await this.gone(pgid))) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const goneAfterMs = Date.now() - killedAt;
    this.buildFolders.remove();
    return { processes, goneAfterMs, survivors: groupMembers(pgid).length };
  }

  /** Ctrl-C to the group, as in a terminal; SIGKILL whatever is left after the wait. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid === undefined) return;
    if (!exited(child)) {
      signalGroup(child.pid, "SIGINT");
      await waitForExit(child, STOP_TIMEOUT_MS);
    }
    // Only a group that still has members is ours: an empty one's id may be reused.
    if (groupMembers(child.pid).length > 0) signalGroup(child.pid, "SIGKILL");
    await waitForExit(child, GONE_TIMEOUT_MS);
    this.buildFolders.remove();
  }

  /** For the process' exit handler: nothing asynchronous is possible there. */
  killNow(): void {
    const pid = this.child?.pid;
    if (pid !== undefined && groupMembers(pid).length > 0) signalGroup(pid, "SIGKILL");
    this.buildFolders.remove();
  }

  private async gone(pgid: number): Promise<boolean> {
    if (groupMembers(pgid).length > 0) return false;
    for (const port of Object.values(this.ports)) if (!(await isPortFree(HOST, port))) return false;
    return true;
  }
}
