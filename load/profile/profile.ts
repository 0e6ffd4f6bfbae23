// npm run profile: a V8 CPU profile of the Worker's isolate (the Worker and
// its Durable Objects run in one), taken through the runtime's inspector,
// summarised by where the time goes (load/profile/summary.ts), beside the CPU
// of the whole process tree from /proc. By default it starts the service
// itself (`npm start`, or `npm run dev` with --runner dev) on a scratch
// database on DATABASE_URL's server, creates 1000 bidders and a session, and
// drives the benchmark's workload while it samples: W2's closed loop of raises
// (100 connections), or W3's leaderboard reads, or W1's burst of 1000 first
// bids, once a second on a new session each time. --inspector-port samples a
// running `npm start -- --inspector-port N` while you drive the load; --in
// summarises profiles written before. With REDIS_URL set, npm start runs two
// workerd processes (tools/serve.ts) and the inspector is the first's: it
// holds every object and takes about half of the requests.
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
import { setTimeout as sleep } from "node:timers/promises";
import CDP from "chrome-remote-interface";
import { z } from "zod";
import type { Runner } from "../../tools/service-process.js";
import { targetOf } from "../benchmarks/reference/systems.js";
import { runLeaderboardReads, runRaises, runSimultaneousBids } from "../benchmarks/reference/workloads.js";
import { BiddingApi, signAdminToken } from "../kit/api.js";
import { choiceOption, integerOption, parseOptions, runCommand, runnerOption } from "../kit/cli.js";
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

const Targets = z.array(z.object({ id: z.string(), webSocketDebuggerUrl: z.string() }));

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
async function captureProfile<T>(
  port: number,
  intervalUs: number,
  during: () => Promise<T>,
): Promise<{ profile: CpuProfile; value: T }> {
  const client = await CDP({ target: await workerTarget(port), local: true });
  try {
    await client.Profiler.enable();
    await client.Profiler.setSamplingInterval({ interval: intervalUs });
    await client.Profiler.start();
    const value = await during();
    const { profile } = await client.Profiler.stop();
    return { profile, value };
  } finally {
    await client.close();
  }
}

/**
 * The newest build folder with a source map: npm start's (.wrangler/serve/…/bundle) or wrangler
 * dev's (.wrangler/tmp/…).
 */
function newestBundleDir(): string | undefined {
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : []);
  const builds = [
    ...list(join(ROOT, ".wrangler/serve")).map((dir) => join(dir, "bundle")),
    ...list(join(ROOT, ".wrangler/tmp")),
  ];
  const maps = builds.flatMap((dir) => list(dir)).filter((file) => file.endsWith(".js.map"));
  return maps.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs).map(dirname)[0];
}

/** Where the bundle of a profile is kept beside it, so `--in` can name the files later. */
const bundleDirOf = (profilePath: string) => `${profilePath.replace(/\.cpuprofile$/, "")}.bundle`;

function saveBundle(bundleDir: string, profilePath: string): string {
  const target = bundleDirOf(profilePath);
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

interface ProfileOptions {
  runner: Runner;
  workload: (typeof WORKLOADS)[number];
  seconds: number;
  intervalUs: number;
  out: string;
}

/** Starts the service on a scratch database with bidders and a session, drives `workload` and profiles it. */
function profileOwnService(options: ProfileOptions): Promise<void> {
  const vars = { BID_RATE_PER_SECOND: "100000", BID_RATE_BURST: "100000" };
  return withScratchService("profile", { runner: options.runner, inspector: true, vars }, async (service) => {
    const port = service.inspectorPort;
    if (port === undefined) throw new Error("the service has no inspector port");
    const api = new BiddingApi(
      new HttpClient(service.url, { maxSockets: 4 }),
      await signAdminToken(TOKEN_SECONDS),
    );
    try {
      const tag = Date.now().toString(36);
      const usernames = Array.from({ length: BIDDERS }, (_, i) => `prof${tag}_${i + 1}`);
      const users = await api.createBidders(usernames, TOKEN_SECONDS);
      const newSession = (title: string) =>
        api.createSession(title, { startsAt: new Date(Date.now() - 60_000) });
      const system = targetOf(service);
      if (options.workload === "first-bids") {
        // One profile of one burst: the rounds before it warm the isolate up.
        let profile: CpuProfile | undefined;
        for (let round = 1; round <= options.seconds; round++) {
          const session = await newSession(`profile ${tag} ${round}`);
          const { result } = await runSimultaneousBids(system, session, users, [], async (fire) => {
            if (round < options.seconds) return fire();
            const captured = await captureProfile(port, options.intervalUs, fire);
            profile = captured.profile;
            return captured.value;
          });
          console.log(
            `profile: burst ${round}: all answered in ${result.allAnsweredMs.toFixed(0)} ms, ${JSON.stringify(result.outcomes)}`,
          );
          await sleep(1000);
        }
        if (profile) report(profile, options.out, newestBundleDir());
        return;
      }
      const session = await newSession(`profile ${tag}`);
      const signal = new AbortController().signal;
      // The leaderboard needs bids on it; either way the first seconds warm the isolate up.
      if (options.workload === "leaderboard") await runRaises(system, session, users, WARM_UP_MS, [], signal);
      const totalMs = WARM_UP_MS + options.seconds * 1000;
      const load =
        options.workload === "bids"
          ? runRaises(system, session, users, totalMs, [], signal)
          : runLeaderboardReads(system, session.id, totalMs, signal);
      await sleep(WARM_UP_MS);
      const meter = new CpuMeter(system.cpuRoots());
      meter.start();
      console.log(
        `profile: ${options.workload}, ${options.seconds} s, sampling every ${options.intervalUs} µs…`,
      );
      const { profile } = await captureProfile(port, options.intervalUs, () => sleep(options.seconds * 1000));
      const cpu = meter.stop();
      const { result } = await load;
      console.log(
        `profile: ${result.okPerSecond.toFixed(0)} ${options.workload === "bids" ? "bids" : "reads"}/s over the run, ` +
          `non-2xx ${result.non2xx}, errors ${result.errors}, p50 ${result.latency.p50.toFixed(1)} ms`,
      );
      report(profile, options.out, newestBundleDir(), cpu);
    } finally {
      api.client.close();
    }
  });
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
      const bundleDir = values.bundle ?? (existsSync(bundleDirOf(path)) ? bundleDirOf(path) : undefined);
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
    const { profile } = await captureProfile(port, intervalUs, () => sleep(seconds * 1000));
    report(profile, out, values.bundle ?? newestBundleDir());
    return 0;
  }
  const workload = choiceOption("workload", values.workload, WORKLOADS);
  await profileOwnService({ runner: runnerOption(values.runner), workload, seconds, intervalUs, out });
  return 0;
}

runCommand("profile", USAGE, main);
