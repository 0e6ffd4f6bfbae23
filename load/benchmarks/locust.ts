// npm run bench:locust (options: USAGE below): the reference system's own load
// test (its document: locust --users=1000 --spawn-rate=50), run by Locust
// (Debian's python3-locust) against this service and then the reference design
// on the same machine, with load/benchmarks/locust/locustfile.py. Prints
// requests, failures and Locust's percentiles per endpoint, with each system's CPU.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatTable } from "../../tools/table.js";
import { BiddingApi, signAdminToken } from "../kit/api.js";
import { Cleanups } from "../kit/cleanups.js";
import * as cli from "../kit/cli.js";
import { CpuMeter } from "../kit/cpu.js";
import { HttpClient } from "../kit/http.js";
import { writeReport } from "../kit/report.js";
import { DEFAULT_SERVER_URL } from "../kit/scratch-service.js";
import { missingPeerPackages, PEER_DIR, ReferencePeer } from "./reference/peer.js";
import { startSystems } from "./reference/start-systems.js";
import { targetOf } from "./reference/systems.js";
import type { LoadTarget } from "./reference/workloads.js";

const USAGE = `usage: npm run bench:locust -- [--users 1000] [--spawn-rate 50] [--run-time 90s] [--runner start|dev]
                            [--pg-server postgres://postgres@127.0.0.1:5432] [--redis-url redis://127.0.0.1:6379]`;
const LOCUSTFILE = join(import.meta.dirname, "locust/locustfile.py");
const TOKEN_SECONDS = 6 * 3600;

interface SystemUnderTest extends LoadTarget {
  label: string;
}

/** Locust's CSV columns, and their names in the table. */
const COLUMNS = [
  ["Request Count", "requests"],
  ["Failure Count", "failures"],
  ["Requests/s", "req/s"],
  ["50%", "p50 ms"],
  ["95%", "p95 ms"],
  ["99%", "p99 ms"],
  ["Max Response Time", "max ms"],
] as const;
const HEADER = ["system", "endpoint", ...COLUMNS.map(([, shown]) => shown), "server cores"];

interface LocustRun {
  label: string;
  /** Table rows, one per endpoint and one for all requests, as HEADER names them. */
  rows: string[][];
  failureSamples: string[];
}

/** Locust's `--csv` stats (one line per endpoint and an "Aggregated" one) as table rows. */
function readStats(label: string, csvPrefix: string, serverCores: number): string[][] {
  const [header, ...lines] = readFileSync(`${csvPrefix}_stats.csv`, "utf8").trim().split("\n");
  const columns = (header ?? "").split(",");
  return lines.map((line) => {
    const cells = line.split(",");
    const name = cells[1] === "Aggregated" ? "all requests" : (cells[1] ?? "?");
    const figures = COLUMNS.map(([column]) => String(Math.round(Number(cells[columns.indexOf(column)]))));
    return [label, name, ...figures, name === "all requests" ? serverCores.toFixed(2) : ""];
  });
}

function readFailures(csvPrefix: string): string[] {
  try {
    return readFileSync(`${csvPrefix}_failures.csv`, "utf8").trim().split("\n").slice(1, 6);
  } catch {
    return [];
  }
}

async function runLocust(
  system: SystemUnderTest,
  fixture: string,
  options: { users: number; spawnRate: number; runTime: string; csvPrefix: string },
): Promise<LocustRun> {
  const meter = new CpuMeter(system.cpuRoots());
  meter.start();
  const code = await new Promise<number | null>((done) => {
    const child = spawn(
      "locust",
      [
        ...["-f", LOCUSTFILE, "--headless", "--only-summary", "--host", system.url.origin],
        ...["--users", String(options.users), "--spawn-rate", String(options.spawnRate)],
        ...["--run-time", options.runTime, "--csv", options.csvPrefix, "--stop-timeout", "10"],
      ],
      { env: { ...process.env, LOCUST_FIXTURE: fixture }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let errors = "";
    child.stderr.on("data", (chunk: Buffer) => {
      errors = (errors + chunk.toString()).slice(-4000);
    });
    child.on("exit", (status) => {
      // Locust exits 1 when any request failed: the table says which.
      if (status !== 0 && status !== 1) console.error(errors);
      done(status);
    });
  });
  const cpu = meter.stop();
  if (code !== 0 && code !== 1) throw new Error(`locust exited ${code} against ${system.label}`);
  return {
    label: system.label,
    rows: readStats(system.label, options.csvPrefix, cpu.total / cpu.seconds),
    failureSamples: readFailures(options.csvPrefix),
  };
}

async function main(): Promise<number> {
  const values = cli.parseOptions({
    users: { type: "string" },
    "spawn-rate": { type: "string" },
    "run-time": { type: "string" },
    runner: { type: "string" },
    "pg-server": { type: "string" },
    "redis-url": { type: "string" },
  });
  const users = cli.integerOption("users", values.users, 1000, { min: 1, max: 5000 });
  const spawnRate = cli.integerOption("spawn-rate", values["spawn-rate"], 50, { min: 1, max: 1000 });
  const runTimeMs = cli.durationOption("run-time", values["run-time"], 90_000, {
    minMs: 5_000,
    maxMs: 900_000,
  });
  const runner = cli.runnerOption(values.runner);
  const pgServer = cli.databaseUrlOption(values["pg-server"] ?? DEFAULT_SERVER_URL);
  const redisUrl = cli.redisUrlOption(values["redis-url"], "redis://127.0.0.1:6379") ?? "";
  const missing = [
    ...missingPeerPackages(),
    ...(spawnSync("sh", ["-c", "command -v locust"]).status === 0 ? [] : ["python3-locust"]),
  ];
  if (missing.length > 0) {
    console.error(`bench:locust needs: sudo apt-get install -y ${missing.join(" ")} (the peer: ${PEER_DIR})`);
    return 1;
  }
  const elsewhere = ReferencePeer.runningElsewhere();
  if (elsewhere) throw new Error(`${elsewhere}: stop it with run.sh stop`);

  const cleanups = new Cleanups();
  process.on("SIGINT", () => void cleanups.runAll().then(() => process.exit(130)));
  try {
    // One bidder per simulated user, a few seconds apart: the default per-user limit never binds.
    const { tag, tempDir, service, peer } = await startSystems(cleanups, {
      prefix: "locust",
      peerPrefix: "locustpeer",
      runner,
      pgServer,
      redisUrl,
    });
    const adminToken = await signAdminToken(TOKEN_SECONDS);
    const systems: SystemUnderTest[] = [
      { label: `this service (${service.command})`, ...targetOf(service) },
      { label: "reference design", url: peer.url, cpuRoots: () => peer.pids() },
    ];
    const runs: LocustRun[] = [];
    for (const system of systems) {
      const api = new BiddingApi(new HttpClient(system.url, { maxSockets: 4 }), adminToken);
      const bidders = await api.createBidders(
        Array.from({ length: users }, (_, i) => `lc${tag}_${i + 1}`),
        TOKEN_SECONDS,
      );
      const session = await api.createSession(`locust ${tag}`, { minutes: 30 });
      api.client.close();
      const fixture = join(tempDir, `${runs.length}.json`);
      writeFileSync(
        fixture,
        JSON.stringify({
          sessionId: session.id,
          minBid: session.minBid,
          minIncrement: session.minIncrement,
          bidders: bidders.map(({ id, token }) => ({ id, token })),
        }),
      );
      console.log(`${system.label}: ${users} users, spawn rate ${spawnRate}/s, ${runTimeMs / 1000} s…`);
      runs.push(
        await runLocust(system, fixture, {
          users,
          spawnRate,
          runTime: `${Math.round(runTimeMs / 1000)}s`,
          csvPrefix: join(tempDir, `locust-${runs.length}`),
        }),
      );
    }
    console.log(
      `\nLocust, ${users} users, spawn rate ${spawnRate}/s, ${runTimeMs / 1000} s each, one after the other:`,
    );
    const rows = runs.flatMap((run) => run.rows);
    console.log(formatTable(HEADER, rows));
    for (const run of runs) {
      if (run.failureSamples.length > 0)
        console.log(`\n${run.label}, failures:\n${run.failureSamples.join("\n")}`);
    }
    const path = writeReport("locust", {
      kind: "locust",
      at: new Date().toISOString(),
      users,
      spawnRate,
      runTimeMs,
      runs,
    });
    console.log(`report: ${path}`);
    return 0;
  } finally {
    await cleanups.runAll();
  }
}

cli.runCommand("bench:locust", USAGE, main);
