// npm run profile -- [--workload bids|leaderboard|first-bids] [--seconds 10] [--runner start|dev] [--interval-us 500]
//                    [--out load/results/profile.cpuprofile]
// npm run profile -- --inspector-port N [--seconds 10]   (a running `npm start -- --inspector-port N`)
// npm run profile -- --in FILE.cpuprofile [--bundle DIR]
//
// A V8 CPU profile of the Worker's isolate (the Worker and its Durable Objects
// run in one), taken through the runtime's inspector, summarised by where the
// time goes (load/profile/summary.ts), beside the CPU of the whole process
// tree from /proc. By default it starts the service itself (`npm start`, or
// `npm run dev` with --runner dev) on a scratch database on DATABASE_URL's
// server, creates 1000 bidders and a session, and drives the benchmark's
// workload while it samples: W2's closed loop of raises (100 connections), or
// W3's leaderboard reads, or W1's burst of 1000 first bids, once a second on
// a new session each time.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import CDP from "chrome-remote-interface";
import { z } from "zod";
import { errorMessage } from "../../tools/net.js";
import type { Runner, ServiceProcess } from "../../tools/service-process.js";
import { targetOf } from "../benchmarks/reference/systems.js";
import { runLeaderboardReads, runRaises, runSimultaneousBids } from "../benchmarks/reference/workloads.js";
import { BiddingApi, signAdminToken } from "../kit/api.js";
import { integerOption, parseOptions, runCommand, runnerOption, UsageError } from "../kit/cli.js";
import { CpuMeter, type CpuWindow, describeCpu } from "../kit/cpu.js";
import { HttpClient } from "../kit/http.js";
import { withScratchService } from "../kit/scratch-service.js";
import { type CpuProfile, formatSummary, SourceFiles, summarise } from "./summary.js";

const USAGE = `usage: npm run profile -- [--workload bids|leaderboard|first-bids] [--seconds 10] [--runner start|dev]
                       [--interval-us 500] [--out load/results/profile.cpuprofile]
       npm run profile -- --inspector-port N [--seconds 10] [--bundle DIR]
       npm run profile -- --in FILE.cpuprofile [--in …] [--bundle DIR]`;

const ROOT = join(import.meta.dirname, "../..");
const BIDDERS = 1000;
const WARM_UP_MS = 3_000;
const TOKEN_SECONDS = 3600;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

const Targets = z.array(
  z.object({ id: z.string(), title: z.string().optional(), webSocketDebuggerUrl: z.string() }),
);

/**
 * The Worker's isolate among the inspector's targets: `core:user:<name>` on
 * workerd's own inspector (npm start), the one target of wrangler's proxy.
 */
async function workerTarget(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5_000) });
  const targets = Targets.parse(await response.json());
  const user = targets.filter((t) => t.id.startsWith("core:user:") && !t.id.includes("miniflare"));
  const target =
    user.find((t) => !t.id.includes("assets")) ?? (targets.length === 1 ? targets[0] : undefined);
  if (target === undefined)
    throw new Error(`no Worker among the inspector's targets: ${targets.map((t) => t.id).join(", ")}`);
  return target.webSocketDebuggerUrl;
}

/** Samples the Worker's isolate while `during` runs. */
async function captureProfile(
  port: number,
  intervalUs: number,
  during: () => Promise<void>,
): Promise<CpuProfile> {
  const client = await CDP({ target: await workerTarget(port), local: true });
  try {
    await client.Profiler.enable();
    await client.Profiler.setSamplingInterval({ interval: intervalUs });
    await client.Profiler.start();
    await during();
    const { profile } = await client.Profiler.stop();
    return profile;
  } finally {
    await client.close();
  }
}

/** The newest build folder holding a source map: npm start's (.wrangler/serve), else wrangler dev's. */
function newestBundleDir(): string | undefined {
  const candidates: { dir: string; mtime: number }[] = [];
  for (const [root, sub] of [
    [join(ROOT, ".wrangler/serve"), "bundle"],
    [join(ROOT, ".wrangler/tmp"), ""],
  ] as const) {
    for (const entry of existsSync(root) ? readdirSync(root) : []) {
      const dir = join(root, entry, sub);
      for (const name of existsSync(dir) ? readdirSync(dir) : []) {
        if (name.endsWith(".js.map")) candidates.push({ dir, mtime: statSync(join(dir, name)).mtimeMs });
      }
    }
  }
  return candidates.sort((a, b) => b.mtime - a.mtime)[0]?.dir;
}

/** Copies the bundle and its map next to the profile, so `--in` can name the files later. */
function saveBundle(bundleDir: string, profilePath: string): string {
  const target = `${profilePath.replace(/\.cpuprofile$/, "")}.bundle`;
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(bundleDir)) {
    if (name.endsWith(".js") || name.endsWith(".js.map"))
      copyFileSync(join(bundleDir, name), join(target, name));
  }
  return target;
}

function printCpu(cpu: CpuWindow, isolateSeconds: number): void {
  console.log(`\nCPU over the ${cpu.seconds.toFixed(1)} s window (/proc): ${describeCpu(cpu)}`);
  const workerd = cpu.processes.filter((p) => p.name === "workerd").reduce((sum, p) => sum + p.seconds, 0);
  if (workerd > 0) {
    const outside = Math.max(0, workerd - isolateSeconds);
    console.log(
      `  workerd ${(workerd / cpu.seconds).toFixed(2)} cores; the profile saw ${isolateSeconds.toFixed(2)} s of isolate time; ` +
        `${outside.toFixed(2)} s (${((100 * outside) / workerd).toFixed(0)} %) ran outside the isolate (HTTP, sockets, RPC transport, SQLite commits, event loop, kernel)`,
    );
  }
}

function report(profile: CpuProfile, out: string, bundleDir: string | undefined, cpu?: CpuWindow): void {
  mkdirSync(dirname(resolve(out)), { recursive: true });
  writeFileSync(out, JSON.stringify(profile));
  const saved = bundleDir === undefined ? undefined : saveBundle(bundleDir, out);
  if (saved === undefined)
    console.log("profile: no bundle source map found; files are named by the bundle only");
  const summary = summarise(basename(out), profile, new SourceFiles(saved));
  console.log(`\n${formatSummary(summary)}`);
  if (cpu) printCpu(cpu, summary.busyMs / 1000);
  const summaryPath = out.replace(/\.cpuprofile$/, ".summary.json");
  writeFileSync(summaryPath, `${JSON.stringify({ summary, cpu }, null, 2)}\n`);
  console.log(`\nwritten: ${out}, ${summaryPath} (open the .cpuprofile in Chrome DevTools › Performance)`);
}

const WORKLOADS = ["bids", "leaderboard", "first-bids"] as const;
type Workload = (typeof WORKLOADS)[number];

interface ProfileOptions {
  runner: Runner;
  workload: Workload;
  seconds: number;
  intervalUs: number;
  out: string;
}

/** Starts the service on a scratch database, drives `workload` and profiles it. */
function profileOwnService(options: ProfileOptions): Promise<void> {
  const vars = { BID_RATE_PER_SECOND: "100000", BID_RATE_BURST: "100000" };
  return withScratchService("profile", { runner: options.runner, inspector: true, vars }, async (service) => {
    const api = new BiddingApi(
      new HttpClient(service.url, { maxSockets: 4 }),
      await signAdminToken(TOKEN_SECONDS),
    );
    try {
      await profileService(service, api, options);
    } finally {
      api.client.close();
    }
  });
}

/** Creates bidders and a session on `service`, drives `workload` and profiles it. */
async function profileService(
  service: ServiceProcess,
  api: BiddingApi,
  options: ProfileOptions,
): Promise<void> {
  const tag = Date.now().toString(36);
  const usernames = Array.from({ length: BIDDERS }, (_, i) => `prof${tag}_${i + 1}`);
  const users = await api.createBidders(usernames, TOKEN_SECONDS);
  const session = await api.createSession(`profile ${tag}`, { startsAt: new Date(Date.now() - 60_000) });
  const system = targetOf(service);
  const signal = new AbortController().signal;
  const port = service.inspectorPort;
  if (port === undefined) throw new Error("the service has no inspector port");
  // The leaderboard needs bids on it; either way the first seconds warm the isolate up.
  if (options.workload === "leaderboard") await runRaises(system, session, users, WARM_UP_MS, [], signal);
  if (options.workload === "first-bids") {
    // One profile of one burst: the rounds before it warm the isolate up.
    let profile: CpuProfile | undefined;
    for (let round = 1; round <= options.seconds; round++) {
      const fresh = await api.createSession(`profile ${tag} ${round}`, {
        startsAt: new Date(Date.now() - 60_000),
      });
      const last = round === options.seconds;
      const { result } = await runSimultaneousBids(system, fresh, users, [], async (fire) => {
        if (!last) return fire();
        let fired!: ReturnType<typeof fire>;
        profile = await captureProfile(port, options.intervalUs, async () => {
          fired = fire();
          await fired;
        });
        return fired;
      });
      console.log(
        `profile: burst ${round}: all answered in ${result.allAnsweredMs.toFixed(0)} ms, ${JSON.stringify(result.outcomes)}`,
      );
      await sleep(1000);
    }
    if (profile) report(profile, options.out, newestBundleDir());
    return;
  }
  const totalMs = WARM_UP_MS + options.seconds * 1000;
  const load =
    options.workload === "bids"
      ? runRaises(system, session, users, totalMs, [], signal)
      : runLeaderboardReads(system, session.id, totalMs, signal);
  await sleep(WARM_UP_MS);
  const meter = new CpuMeter(system.cpuRoots());
  meter.start();
  console.log(`profile: ${options.workload}, ${options.seconds} s, sampling every ${options.intervalUs} µs…`);
  const profile = await captureProfile(port, options.intervalUs, () => sleep(options.seconds * 1000));
  const cpu = meter.stop();
  const { result } = await load;
  console.log(
    `profile: ${result.okPerSecond.toFixed(0)} ${options.workload === "bids" ? "bids" : "reads"}/s over the run, ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}, p50 ${result.latency.p50.toFixed(1)} ms`,
  );
  report(profile, options.out, newestBundleDir(), cpu);
}

async function main(): Promise<number> {
  const values = parseOptions({
    workload: { type: "string" },
    runner: { type: "string" },
    "inspector-port": { type: "string" },
    seconds: { type: "string" },
    "interval-us": { type: "string" },
    out: { type: "string" },
    in: { type: "string", multiple: true },
    bundle: { type: "string" },
  });
  if (values.in) {
    for (const path of values.in) {
      const profile: CpuProfile = JSON.parse(readFileSync(path, "utf8"));
      const saved = `${path.replace(/\.cpuprofile$/, "")}.bundle`;
      const bundleDir = values.bundle ?? (existsSync(saved) ? saved : undefined);
      console.log(`${formatSummary(summarise(basename(path), profile, new SourceFiles(bundleDir)))}\n`);
    }
    return 0;
  }
  const seconds = integerOption("seconds", values.seconds, 10, { min: 1, max: 300 });
  const intervalUs = integerOption("interval-us", values["interval-us"], 500, { min: 50, max: 100_000 });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const out = values.out ?? `load/results/profile-${stamp}.cpuprofile`;
  if (values["inspector-port"] !== undefined) {
    const port = integerOption("inspector-port", values["inspector-port"], 9229, { min: 1, max: 65535 });
    console.log(
      `profile: sampling the Worker at inspector port ${port} for ${seconds} s (drive the load yourself)…`,
    );
    const profile = await captureProfile(
      port,
      intervalUs,
      () => new Promise((done) => setTimeout(done, seconds * 1000)),
    );
    report(profile, out, values.bundle ?? newestBundleDir());
    return 0;
  }
  const workload = values.workload ?? "bids";
  if (!WORKLOADS.includes(workload as Workload))
    throw new UsageError(`--workload must be ${WORKLOADS.join(", ")}`);
  try {
    await profileOwnService({
      runner: runnerOption(values.runner),
      workload: workload as Workload,
      seconds,
      intervalUs,
      out,
    });
  } catch (error) {
    throw new Error(`profile: ${errorMessage(error)}`);
  }
  return 0;
}

runCommand("profile", USAGE, main);
