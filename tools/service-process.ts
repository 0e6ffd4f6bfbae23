// The service as a child process, for the benchmarks, the fault drills, the
// browser tests and CI: `npm start` (the default, what users run) or
// `npm run dev` (wrangler dev, to compare), in a process group of its own so
// one signal reaches npm, the script, workerd and the stack beside it; on
// ports chosen once, so a restart serves the same URL; with its state in a
// folder that survives a SIGKILL of the whole group. The benchmarks' own
// Workers (`worker`: their wrangler.toml) are served the same two ways,
// without the local stack: tools/serve-worker.ts, or wrangler dev.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ROOT } from "./local-stack.js";
import { freePort, isPortFree, withPlaceholderPassword } from "./net.js";
import {
  exited,
  type GroupMember,
  groupMembers,
  keepOutputTail,
  signalGroup,
  waitForAnswer,
  waitForExit,
} from "./process-group.js";

export type Runner = "start" | "dev";
export const RUNNERS: readonly Runner[] = ["start", "dev"];

const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 120_000;
/** `npm start` stops within 5 s; `npm run dev` gives wrangler 10 s before it kills it. */
const STOP_TIMEOUT_MS = 15_000;
const GONE_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 6_000;

export interface ServiceOptions {
  runner: Runner;
  /** The state folder (`--persist-to`): objects, alarms, queues; a temporary one (removed by stop) when left out. */
  persistTo?: string;
  /** Environment of the script: DATABASE_URL, REDIS_URL, PGLITE_DATA_DIR...; undefined removes a variable. */
  env?: Record<string, string | undefined>;
  /** Vars and secrets of the Worker (the environment for `npm start`, `--var` for wrangler dev). */
  vars?: Record<string, string>;
  /** workerd's inspector (`npm start`) or wrangler's inspector proxy (`npm run dev`). */
  inspector?: boolean;
  /** Ready when /health answers this way; by default any answer will do. */
  ready?: (response: Response) => boolean;
  /** Another Worker's wrangler.toml, from the project root, served in place of the product. */
  worker?: string;
  /** More arguments for the script (`npm start -- …`, tools/serve-worker.ts). */
  args?: string[];
}

export interface KillReport {
  /** The group's processes just before the kill. */
  killed: GroupMember[];
  /** Processes of the group still alive (not zombies) after the wait: orphans. */
  survivors: GroupMember[];
  /** Ports still taken after the kill. */
  portsStillTaken: number[];
  /** From the kill until the group was gone and its ports free (or the wait gave up). */
  releasedAfterMs: number;
}

export const runnerCommand = (runner: Runner) => (runner === "start" ? "npm start" : "npm run dev");

/** wrangler dev's build folders (.wrangler/tmp): it removes its own on a clean exit only; after a SIGKILL we do. */
class WranglerBuildFolders {
  private static readonly DIR = join(ROOT, ".wrangler/tmp");
  private before = new Set<string>();
  private made: string[] = [];

  private static entries(): Set<string> {
    try {
      return new Set(readdirSync(WranglerBuildFolders.DIR));
    } catch {
      return new Set();
    }
  }

  noteExisting(): void {
    this.before = WranglerBuildFolders.entries();
  }

  claimNew(): void {
    this.made = [...WranglerBuildFolders.entries()].filter((entry) => !this.before.has(entry));
  }

  remove(): void {
    for (const entry of this.made)
      rmSync(join(WranglerBuildFolders.DIR, entry), { recursive: true, force: true });
    this.made = [];
  }
}

export class ServiceProcess {
  private child: ChildProcess | undefined;
  private readOutput = () => "";
  private readonly buildFolders = new WranglerBuildFolders();

  private constructor(
    private readonly options: ServiceOptions,
    private readonly ports: Record<"api" | "pglite" | "upstash" | "inspector", number>,
    private readonly persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), "service-process-")),
  ) {}

  static async create(options: ServiceOptions): Promise<ServiceProcess> {
    return new ServiceProcess(options, {
      api: await freePort(),
      pglite: await freePort(),
      upstash: await freePort(),
      inspector: await freePort(),
    });
  }

  get url(): URL {
    return new URL(`http://${HOST}:${this.ports.api}`);
  }

  get command(): string {
    const { runner, worker } = this.options;
    return worker === undefined ? runnerCommand(runner) : `${worker} (${runnerCommand(runner)}'s way)`;
  }

  get inspectorPort(): number | undefined {
    return this.options.inspector ? this.ports.inspector : undefined;
  }

  /** npm's pid: the root of the tree (script, workerd, the stack), and the group's id. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && !exited(this.child);
  }

  /** The last lines the service printed, for failure messages. */
  outputTail(): string {
    return this.readOutput();
  }

  /** The program and its arguments: npm for the product, serve-worker or wrangler for another Worker. */
  private commandLine(): [string, string[]] {
    const { runner, vars = {}, worker } = this.options;
    const persistTo = this.persistTo;
    const varArgs = Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
    if (worker !== undefined && runner === "start") {
      const serve = ["--import", "tsx", join(ROOT, "tools/serve-worker.ts"), "--config", join(ROOT, worker)];
      return [
        process.execPath,
        [...serve, "--persist-to", persistTo, ...varArgs, ...(this.options.args ?? [])],
      ];
    }
    const args =
      worker === undefined
        ? ["--silent", runner === "start" ? "start" : "run", ...(runner === "start" ? [] : ["dev"]), "--"]
        : ["--silent", "exec", "--", "wrangler", "dev", "--config", join(ROOT, worker), "--ip", HOST];
    args.push("--persist-to", persistTo);
    if (this.options.inspector || worker !== undefined) {
      args.push("--inspector-port", String(this.ports.inspector));
    }
    if (runner === "dev")
      args.push("--log-level", "error", "--show-interactive-dev-session=false", ...varArgs);
    if (worker !== undefined) args.push("--port", String(this.ports.api));
    else args.push(...(this.options.args ?? []));
    return ["npm", args];
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.command} is already running`);
    const { runner, vars = {}, worker } = this.options;
    const databaseUrl = this.options.env?.DATABASE_URL;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(this.ports.api),
      PGLITE_PORT: String(this.ports.pglite),
      UPSTASH_PORT: String(this.ports.upstash),
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      ...(runner === "start" ? vars : {}),
      // wrangler dev connects another Worker's Hyperdrive binding here (with a password, even for trust auth).
      ...(worker !== undefined && databaseUrl
        ? { CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: withPlaceholderPassword(databaseUrl) }
        : {}),
    };
    for (const [name, value] of Object.entries(this.options.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    this.buildFolders.noteExisting();
    const [program, args] = this.commandLine();
    const child = spawn(program, args, {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env,
    });
    this.child = child;
    this.readOutput = keepOutputTail(child, OUTPUT_TAIL_CHARS);
    const ready = this.options.ready ?? (() => true);
    if (await waitForAnswer(child, new URL("/health", this.url), READY_TIMEOUT_MS, ready)) {
      this.buildFolders.claimNew();
      return;
    }
    const reason = exited(child) ? "exited" : `was not ready within ${READY_TIMEOUT_MS / 1000} s`;
    const output = this.outputTail();
    await this.stop();
    throw new Error(`${this.command} ${reason} on ${this.url.origin}:\n${output}`);
  }

  /** SIGKILL to the whole group: nothing gets to flush or shut down. */
  async kill(): Promise<KillReport> {
    const child = this.child;
    if (child?.pid === undefined)
      return { killed: [], survivors: [], portsStillTaken: [], releasedAfterMs: 0 };
    const pgid = child.pid;
    const killed = groupMembers(pgid);
    signalGroup(pgid, "SIGKILL");
    const killedAt = Date.now();
    await waitForExit(child, GONE_TIMEOUT_MS);
    // The kernel frees a killed process' sockets as it tears it down, and its
    // children are reaped by whoever adopts them: give that a moment, bounded.
    let survivors = groupMembers(pgid);
    let portsStillTaken = await this.takenPorts();
    while ((survivors.length > 0 || portsStillTaken.length > 0) && Date.now() - killedAt < GONE_TIMEOUT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      survivors = groupMembers(pgid);
      portsStillTaken = await this.takenPorts();
    }
    const releasedAfterMs = Date.now() - killedAt;
    this.buildFolders.remove();
    return { killed, survivors, portsStillTaken, releasedAfterMs };
  }

  /**
   * SIGTERM to the group, as a terminal's Ctrl-C or a service manager would;
   * SIGKILL whatever is left after the wait. Resolves with the exit code, or
   * null when it had to be killed.
   */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (child?.pid === undefined) return null;
    const pgid = child.pid;
    if (!exited(child)) {
      signalGroup(pgid, "SIGTERM");
      await waitForExit(child, STOP_TIMEOUT_MS);
    }
    // Only a group that still has members is ours: an empty one's id may be reused.
    if (groupMembers(pgid).length > 0) signalGroup(pgid, "SIGKILL");
    await waitForExit(child, GONE_TIMEOUT_MS);
    this.buildFolders.remove();
    // wrangler dev builds another Worker next to its config: nothing in it outlives the run.
    const { worker } = this.options;
    if (worker !== undefined)
      rmSync(join(ROOT, dirname(worker), ".wrangler"), { recursive: true, force: true });
    if (this.options.persistTo === undefined) rmSync(this.persistTo, { recursive: true, force: true });
    return child.exitCode;
  }

  /** For the process' exit handler: nothing asynchronous is possible there. */
  killNow(): void {
    const pid = this.child?.pid;
    if (pid !== undefined && groupMembers(pid).length > 0) signalGroup(pid, "SIGKILL");
    this.buildFolders.remove();
  }

  private async takenPorts(): Promise<number[]> {
    const taken: number[] = [];
    for (const port of [this.ports.api, this.inspectorPort]) {
      if (port !== undefined && !(await isPortFree(HOST, port))) taken.push(port);
    }
    return taken;
  }
}
