// `wrangler dev` for the fault run: its own process group (so a kill reaches
// workerd too), fixed ports chosen once (so a restart serves the same URL),
// and a persist folder that outlives the process.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isPortFree } from "../../tools/net.js";
import { exited, keepOutputTail, signalGroup, waitForAnswer, waitForExit } from "../process-group.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;
const KILL_TIMEOUT_MS = 5_000;
const OUTPUT_TAIL_CHARS = 6_000;
const WRANGLER_TMP = join(ROOT, ".wrangler/tmp");

/** The build folders in the project's .wrangler/tmp: wrangler removes its own on a clean exit only. */
function wranglerTmpEntries(): Set<string> {
  try {
    return new Set(readdirSync(WRANGLER_TMP));
  } catch {
    return new Set();
  }
}

/**
 * The build folders one wrangler made in .wrangler/tmp while it started. It
 * removes them on a clean exit only; after a SIGKILL we do. (Another wrangler
 * of this project starting in the same seconds would have its folders counted
 * here too: unlikely enough for a test or bench run.)
 */
export class WranglerBuildFolders {
  private before = new Set<string>();
  private made: string[] = [];

  /** Before wrangler starts. */
  noteExisting(): void {
    this.before = wranglerTmpEntries();
  }

  /** Once it answers: what was not there before is its. */
  claimNew(): void {
    this.made = [...wranglerTmpEntries()].filter((entry) => !this.before.has(entry));
  }

  remove(): void {
    for (const entry of this.made) rmSync(join(WRANGLER_TMP, entry), { recursive: true, force: true });
    this.made = [];
  }
}

export interface WranglerOptions {
  port: number;
  inspectorPort: number;
  persistTo: string;
  /** An env file that replaces .dev.vars, so a developer's local secrets never leak into the run. */
  envFile: string;
  vars: Record<string, string>;
  /** The Hyperdrive binding's local connection string. */
  hyperdriveUrl: string;
}

export interface GroupMember {
  pid: number;
  command: string;
}

export interface KillReport {
  /** The group's processes just before the kill. */
  killed: GroupMember[];
  /** Processes of the group still alive (not zombies) after the wait: orphans. */
  survivors: GroupMember[];
  /** Ports (API, inspector) still taken after the kill. */
  portsStillTaken: number[];
  /** From the kill until the group was gone and its ports free (or the wait gave up). */
  releasedAfterMs: number;
}

/** Live (not zombie) processes whose process group is `pgid`, from /proc (empty where there is no /proc). */
export function groupMembers(pgid: number): GroupMember[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const members: GroupMember[] = [];
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
      const close = stat.lastIndexOf(")");
      const [state, , pgrp] = stat.slice(close + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") {
        members.push({ pid: Number(entry), command: stat.slice(stat.indexOf("(") + 1, close) });
      }
    } catch {
      // Exited while we looked.
    }
  }
  return members;
}

export class WranglerProcess {
  private child: ChildProcess | undefined;
  private readOutput = () => "";
  private readonly buildFolders = new WranglerBuildFolders();
  readonly url: URL;

  constructor(private readonly options: WranglerOptions) {
    this.url = new URL(`http://${HOST}:${options.port}`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && !exited(this.child);
  }

  /** The last lines wrangler and the Worker printed, for failure messages. */
  outputTail(): string {
    return this.readOutput();
  }

  async start(): Promise<void> {
    if (this.running) throw new Error("wrangler dev is already running");
    for (const port of [this.options.port, this.options.inspectorPort]) {
      if (!(await isPortFree(HOST, port)))
        throw new Error(`port ${port} is taken before wrangler dev starts`);
    }
    this.buildFolders.noteExisting();
    const args = [
      join(ROOT, "node_modules/.bin/wrangler"),
      "dev",
      "--ip",
      HOST,
      "--port",
      String(this.options.port),
      "--inspector-port",
      String(this.options.inspectorPort),
      "--persist-to",
      this.options.persistTo,
      "--env-file",
      this.options.envFile,
      "--log-level",
      "error",
      "--show-interactive-dev-session=false",
      ...Object.entries(this.options.vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: this.options.hyperdriveUrl,
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_SEND_METRICS: "false",
        // As npm run dev runs the service (tools/dev.ts): without the local observability collector.
        X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
      },
    });
    this.child = child;
    this.readOutput = keepOutputTail(child, OUTPUT_TAIL_CHARS);

    // Any answer, whatever its status, means wrangler is serving the Worker.
    if (await waitForAnswer(child, new URL("/health", this.url), READY_TIMEOUT_MS, () => true)) {
      this.buildFolders.claimNew();
      return;
    }
    const reason = exited(child) ? "exited" : `did not answer within ${READY_TIMEOUT_MS / 1000} s`;
    await this.stop();
    throw new Error(`wrangler dev ${reason} on ${this.url.origin}:\n${this.outputTail()}`);
  }

  /**
   * SIGKILL to the whole group: wrangler, workerd and anything else it
   * started die at once, with no chance to flush or shut down cleanly.
   */
  async kill(): Promise<KillReport> {
    const child = this.child;
    if (child?.pid === undefined)
      return { killed: [], survivors: [], portsStillTaken: [], releasedAfterMs: 0 };
    const pgid = child.pid;
    const killed = groupMembers(pgid);
    signalGroup(pgid, "SIGKILL");
    const killedAt = Date.now();
    await waitForExit(child, KILL_TIMEOUT_MS);
    // The kernel releases a killed process' sockets as it tears it down, and
    // its children are reaped by whoever adopts them: give that a moment, so
    // only a real orphan counts.
    let survivors = groupMembers(pgid);
    let portsStillTaken = await this.takenPorts();
    while ((survivors.length > 0 || portsStillTaken.length > 0) && Date.now() - killedAt < KILL_TIMEOUT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      survivors = groupMembers(pgid);
      portsStillTaken = await this.takenPorts();
    }
    const releasedAfterMs = Date.now() - killedAt;
    this.buildFolders.remove();
    return { killed, survivors, portsStillTaken, releasedAfterMs };
  }

  /** SIGTERM to the group, then SIGKILL if it has not exited in time. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid === undefined) return;
    const pgid = child.pid;
    if (!exited(child)) {
      signalGroup(pgid, "SIGTERM");
      if (!(await waitForExit(child, STOP_TIMEOUT_MS))) signalGroup(pgid, "SIGKILL");
    }
    // wrangler may be gone while workerd lingers for a moment: make sure the group is empty.
    signalGroup(pgid, "SIGKILL");
    await waitForExit(child, KILL_TIMEOUT_MS);
    this.buildFolders.remove();
  }

  private async takenPorts(): Promise<number[]> {
    const taken: number[] = [];
    for (const port of [this.options.port, this.options.inspectorPort]) {
      if (!(await isPortFree(HOST, port))) taken.push(port);
    }
    return taken;
  }

  /** For the process' exit handler: nothing asynchronous is possible there. */
  killNow(): void {
    if (this.child?.pid !== undefined) signalGroup(this.child.pid, "SIGKILL");
    this.buildFolders.remove();
  }
}
