// CPU time of process trees over a measurement window, from Linux's /proc
// (tools/process-group.ts): the processes given and every descendant (npm
// start's pid covers the script, the stack beside it, and workerd, which runs
// the Worker and the Durable Objects).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { allProcStats, type ProcStat, readProcStat } from "../../tools/process-group.js";
import { UsageError } from "./cli.js";

export interface CpuWindow {
  /** Wall-clock seconds of the window. */
  seconds: number;
  processes: { pid: number; name: string; seconds: number }[];
  /** CPU seconds of all of them together. */
  total: number;
}

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/** The roots and all their descendants, as they are now. */
function processTree(roots: readonly number[]): ProcStat[] {
  const processes = allProcStats();
  const found = new Map<number, ProcStat>();
  const queue = processes.filter((stat) => roots.includes(stat.pid));
  for (let stat = queue.shift(); stat !== undefined && found.size < 10_000; stat = queue.shift()) {
    if (found.has(stat.pid)) continue;
    found.set(stat.pid, stat);
    queue.push(...processes.filter((child) => child.parent === stat.pid));
  }
  return [...found.values()];
}

/** `--cpu-tree 123,456`: the root pids. */
export function cpuTreeOption(raw: string | undefined): number[] {
  if (raw === undefined) return [];
  const pids = raw.split(",").map((part) => part.trim());
  if (!pids.every((pid) => /^[1-9][0-9]*$/.test(pid))) {
    throw new UsageError(`--cpu-tree must be process ids separated by commas, not ${raw}`);
  }
  const roots = pids.map(Number);
  for (const pid of roots) {
    if (!readProcStat(pid)) throw new UsageError(`--cpu-tree: no process ${pid} (Linux /proc only)`);
  }
  return roots;
}

/** Measures the CPU time the process trees spend between start() and stop(). */
export class CpuMeter {
  private readonly ticksPerSecond = clockTicksPerSecond();
  private before = new Map<number, number>();
  private startedAt = 0;

  constructor(private readonly roots: readonly number[]) {}

  start(): void {
    this.before = new Map(processTree(this.roots).map((stat) => [stat.pid, stat.ticks]));
    this.startedAt = performance.now();
  }

  stop(): CpuWindow {
    const seconds = (performance.now() - this.startedAt) / 1000;
    // Processes that started inside the window count from zero; ones that ended are lost (noted by their absence).
    const processes = processTree(this.roots).map((stat) => ({
      pid: stat.pid,
      name: stat.command,
      seconds: (stat.ticks - (this.before.get(stat.pid) ?? 0)) / this.ticksPerSecond,
    }));
    return { seconds, processes, total: processes.reduce((sum, p) => sum + p.seconds, 0) };
  }
}

/** `workerd[4711] 41.2 s, workerd[4707] 20.3 s, node[4690] 3.1 s`: each process over 0.05 s, largest first. */
export function describeCpu(window: CpuWindow): string {
  return [...window.processes]
    .filter((p) => p.seconds >= 0.05)
    .sort((a, b) => b.seconds - a.seconds)
    .map((p) => `${p.name}[${p.pid}] ${p.seconds.toFixed(1)} s`)
    .join(", ");
}

export interface Measured<T> {
  result: T;
  /** CPU-seconds per second of the measured system's process trees. */
  serverCores: number;
  server: CpuWindow;
  /** CPU-seconds per second of this process (the load generator). */
  loaderCores: number;
}

/** `run`, with the CPU the trees of `roots` and this process spent on it. */
export async function measured<T>(roots: readonly number[], run: () => Promise<T>): Promise<Measured<T>> {
  const meter = new CpuMeter(roots);
  meter.start();
  const before = process.cpuUsage();
  const startedAt = performance.now();
  const result = await run();
  const server = meter.stop();
  const used = process.cpuUsage(before);
  const seconds = (performance.now() - startedAt) / 1000;
  return {
    result,
    server,
    serverCores: server.total / server.seconds,
    loaderCores: (used.user + used.system) / 1e6 / seconds,
  };
}

/** The machine's busy and total jiffies so far, from /proc/stat's first line. */
function machineJiffies(): { busy: number; total: number } {
  const fields =
    readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = fields.reduce((sum, value) => sum + value, 0);
  // idle and iowait
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

/**
 * Waits until the whole machine has spent a second with under `cores` busy
 * (true), or `maxMs` passed (false). What a measurement leaves running (the
 * other system's flush, PostgreSQL's autovacuum and checkpoints) then weighs
 * on neither system's next one.
 */
export async function waitForQuietMachine(maxMs = 30_000, cores = 0.3): Promise<boolean> {
  const started = performance.now();
  const cpus = availableParallelism();
  for (;;) {
    const before = machineJiffies();
    await new Promise((done) => setTimeout(done, 1_000));
    const after = machineJiffies();
    const busyCores = ((after.busy - before.busy) / Math.max(1, after.total - before.total)) * cpus;
    if (busyCores < cores) return true;
    if (performance.now() - started >= maxMs) return false;
  }
}
