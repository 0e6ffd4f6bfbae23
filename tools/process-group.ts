// Child processes started in their own process group (a server and the
// workerd it starts), stopped together; what they print kept for failure
// messages, and a wait until they answer.
import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Resolves true once `child` has exited, false when `timeoutMs` passes first. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Signals every process of group `pgid`; a group already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // No process left in the group.
  }
}

/** What `child` last wrote to stdout and stderr (at most `maxChars`), and a failed spawn's reason: for failure messages. */
export function keepOutputTail(child: ChildProcess, maxChars: number): () => string {
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-maxChars);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.on("error", (error) => keep(Buffer.from(`spawn failed: ${error.message}\n`)));
  return () => output.trim();
}

/**
 * Asks `url` every 250 ms until `accept` takes an answer (true), or `child`
 * exits or `timeoutMs` passes (false).
 */
export async function waitForAnswer(
  child: ChildProcess,
  url: URL,
  timeoutMs: number,
  accept: (response: Response) => boolean,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited(child)) {
    try {
      if (accept(await fetch(url, { signal: AbortSignal.timeout(2_000) }))) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

export interface GroupMember {
  pid: number;
  command: string;
}

/** One process as /proc/<pid>/stat shows it (`pid (comm) state ppid pgrp …`). */
export interface ProcStat extends GroupMember {
  state: string;
  parent: number;
  group: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

/** The process' /proc/<pid>/stat, or undefined when it is gone (or there is no /proc). */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: the fields start after the last ")".
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  const [state = "", parent, group] = fields;
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (close < 0 || !Number.isFinite(ticks)) return undefined;
  return {
    pid,
    command: text.slice(text.indexOf("(") + 1, close),
    state,
    parent: Number(parent),
    group: Number(group),
    ticks,
  };
}

/** Every process on the machine, from /proc (empty where there is none). */
export function allProcStats(): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  return entries.flatMap((entry) => (/^[0-9]+$/.test(entry) ? (readProcStat(Number(entry)) ?? []) : []));
}

/** Live (not zombie) processes whose process group is `pgid`. */
export function groupMembers(pgid: number): GroupMember[] {
  return allProcStats()
    .filter((stat) => stat.group === pgid && stat.state !== "Z")
    .map(({ pid, command }) => ({ pid, command }));
}
