// CPU time of the server's processes over a measurement window, from Linux's /proc: the
// processes given and every descendant (npm run dev's pid covers the dev script with its Upstash
// adapter, wrangler, and workerd, which runs the Worker and the Durable Objects).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { UsageError } from "./cli.js";

interface ProcessStat {
  pid: number;
  name: string;
  parent: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

export interface ProcessCpu {
  pid: number;
  name: string;
  seconds: number;
}

export interface CpuWindow {
  /** Wall-clock seconds of the window. */
  seconds: number;
  processes: ProcessCpu[];
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

/** /proc/<pid>/stat: `pid (comm) state ppid …`, utime and stime the 14th and 15th fields. */
function readStat(pid: number): ProcessStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  // Fields after the name, from the 3rd (state) on.
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const parent = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (![parent, utime, stime].every(Number.isFinite)) return undefined;
  return { pid, name: text.slice(open + 1, close), parent, ticks: utime + stime };
}

function allProcesses(): ProcessStat[] {
  return readdirSync("/proc")
    .filter((entry) => /^[0-9]+$/.test(entry))
    .flatMap((entry) => readStat(Number(entry)) ?? []);
}

/** The roots and all their descendants, as they are now. */
function processTree(roots: readonly number[]): ProcessStat[] {
  const processes = allProcesses();
  const children = new Map<number, ProcessStat[]>();
  for (const stat of processes) children.set(stat.parent, [...(children.get(stat.parent) ?? []), stat]);
  const found = new Map<number, ProcessStat>();
  const queue = processes.filter((stat) => roots.includes(stat.pid));
  for (let index = 0; index < queue.length && index < 10_000; index++) {
    const stat = queue[index];
    if (!stat || found.has(stat.pid)) continue;
    found.set(stat.pid, stat);
    queue.push(...(children.get(stat.pid) ?? []));
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
    if (!readStat(pid)) throw new UsageError(`--cpu-tree: no process ${pid} (Linux /proc only)`);
  }
  return roots;
}

/** Measures the CPU time the process trees spend between start() and stop(). */
export class CpuMeter {
  private readonly ticksPerSecond = clockTicksPerSecond();
  private before = new Map<number, ProcessStat>();
  private startedAt = 0;

  constructor(private readonly roots: readonly number[]) {}

  start(): void {
    this.before = new Map(processTree(this.roots).map((stat) => [stat.pid, stat]));
    this.startedAt = performance.now();
  }

  stop(): CpuWindow {
    const seconds = (performance.now() - this.startedAt) / 1000;
    // Processes that started inside the window count from zero; ones that ended are lost (noted by their absence).
    const processes = processTree(this.roots).map((stat) => ({
      pid: stat.pid,
      name: stat.name,
      seconds: (stat.ticks - (this.before.get(stat.pid)?.ticks ?? 0)) / this.ticksPerSecond,
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
