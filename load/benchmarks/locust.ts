// npm run bench:locust -- [--users 1000] [--spawn-rate 50] [--run-time 90s] [--runner start|dev]
//   [--pg-server postgres://postgres@127.0.0.1:5432] [--redis-url redis://127.0.0.1:6379]
// The reference system's own load test (its document: locust --users=1000
// --spawn-rate=50), run by Locust (Debian's python3-locust) against this
// service (`npm start`) and against the reference design, one after the other
// on the same machine: each simulated user raises their own bid and reads the
// top 50 (load/benchmarks/locust/locustfile.py). Prints requests, failures and
// the percentiles Locust measured, per endpoint, with each system's CPU.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase, dropDatabase } from "../../tools/scratch-database.js";
import { ServiceProcess } from "../../tools/service-process.js";
import { formatTable } from "../../tools/table.js";
import { BiddingApi, signAdminToken } from "../kit/api.js";
import { Cleanups } from "../kit/cleanups.js";
import * as cli from "../kit/cli.js";
import { CpuMeter } from "../kit/cpu.js";
import { HttpClient } from "../kit/http.js";
import { writeReport } from "../kit/report.js";
import { missingPeerPackages, PEER_DIR, ReferencePeer, startPeer } from "./reference/peer.js";

const USAGE = `usage: npm run bench:locust -- [--users 1000] [--spawn-rate 50] [--run-time 90s] [--runner start|dev]
                            [--pg-server postgres://postgres@127.0.0.1:5432] [--redis-url redis://127.0.0.1:6379]`;
const LOCUSTFILE = join(import.meta.dirname, "locust/locustfile.py");
const TOKEN_SECONDS = 6 * 3600;

interface SystemUnderTest {
  label: string;
  url: URL;
  roots(): number[];
}

const COLUMNS = ["Request Count", "Failure Count", "Requests/s", "50%", "95%", "99%", "Max Response Time"];
const HEADER = [
  "system",
  "endpoint",
  "requests",
  "failures",
  "req/s",
  "p50 ms",
  "p95 ms",
  "p99 ms",
  "max ms",
  "server cores",
];

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
    const figures = COLUMNS.map((column) => String(Math.round(Number(cells[columns.indexOf(column)]))));
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
  const meter = new CpuMeter(system.roots());
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
  const pgServer = cli.databaseUrlOption(
    values["pg-server"] ?? "postgres://postgres@127.0.0.1:5432/postgres",
  );
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
  const tag = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
  const tempDir = mkdtempSync(join(tmpdir(), "bench-locust-"));
  cleanups.add("temp folder", async () => rmSync(tempDir, { recursive: true, force: true }));
  try {
    const serviceDb = `locust_${tag}`;
    const serviceDbUrl = await createDatabase(pgServer, serviceDb);
    cleanups.add("service database", () => dropDatabase(pgServer, serviceDb));
    const service = await ServiceProcess.create({
      runner,
      env: { DATABASE_URL: serviceDbUrl, REDIS_URL: redisUrl },
      persistTo: join(tempDir, "service-state"),
      ready: (response) => response.ok,
      // One bidder per simulated user, a few seconds apart: the default per-user limit never binds.
      vars: { CACHE_NAMESPACE: `locust-${tag}` },
    });
    cleanups.add(
      service.command,
      () => service.stop(),
      () => service.killNow(),
    );
    await service.start();
    const { peer } = await startPeer(pgServer, `locustpeer_${tag}`, tempDir, cleanups);

    const adminToken = await signAdminToken(TOKEN_SECONDS);
    const systems: SystemUnderTest[] = [
      {
        label: `this service (${service.command})`,
        url: service.url,
        roots: () => (service.pid ? [service.pid] : []),
      },
      { label: "reference design", url: peer.url, roots: () => peer.pids() },
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
    console.log(
      formatTable(
        HEADER,
        runs.flatMap((run) => run.rows),
      ),
    );
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
