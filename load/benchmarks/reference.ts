// npm run bench:reference (options: USAGE below): this service and the
// reference design (../shared/peers/reference-fastapi) side by side, W1–W4 in
// alternating rounds, with the platform floor and CPU per process tree
// (load/README.md has the workloads). Starts everything itself on free
// loopback ports, writes load/results/reference-bench-*.json, and leaves
// nothing running.
import { errorMessage } from "../../tools/net.js";
import { databaseUrlOf } from "../../tools/scratch-database.js";
import { defaultProcesses } from "../../tools/serve.js";
import { ReceiverProcess } from "../../tools/webhook-receiver.js";
import { BiddingApi, signAdminToken } from "../kit/api.js";
import { Cleanups } from "../kit/cleanups.js";
import * as cli from "../kit/cli.js";
import { HttpClient } from "../kit/http.js";
import { writeReport } from "../kit/report.js";
import { DEFAULT_SERVER_URL } from "../kit/scratch-service.js";
import type { FaultPlan } from "./reference/fault-run.js";
import { missingPeerPackages, PEER_DIR, ReferencePeer } from "./reference/peer.js";
import { emptyResults, runRounds } from "./reference/rounds.js";
import { startSystems } from "./reference/start-systems.js";
import {
  formatCpu,
  formatFloor,
  formatHeadline,
  formatRounds,
  formatWebhooks,
  maxLoaderCores,
} from "./reference/summary.js";
import { type Contender, referenceSystem, serviceSystem, targetOf } from "./reference/systems.js";
import type { WebhookBench } from "./reference/webhook-run.js";
import { W2_CONNECTIONS } from "./reference/workloads.js";
import { startFloorWorker } from "./workers.js";

const USAGE = `usage: npm run bench:reference -- [--rounds 2] [--duration 10s] [--users 1000] [--w4-rate 50]
                               [--w2-raises own|top] [--no-webhooks] [--runner start|dev]
                               [--pg-server postgres://postgres@127.0.0.1:5432] [--redis-url redis://127.0.0.1:6379]`;

const TOKEN_SECONDS = 6 * 3600;
const W4_DOWN_MS = 3_000;
/** Past this the load generator is no longer negligible next to the servers on 2 cores. */
const LOADER_CORES_WARNING = 0.2;

const startedAt = Date.now();
const log = (line: string) =>
  console.log(`${((Date.now() - startedAt) / 1000).toFixed(0).padStart(5)}s  ${line}`);

async function main(): Promise<number> {
  const values = cli.parseOptions({
    rounds: { type: "string" },
    duration: { type: "string" },
    users: { type: "string" },
    "w4-rate": { type: "string" },
    "w2-raises": { type: "string" },
    "no-webhooks": { type: "boolean" },
    "pg-server": { type: "string" },
    "redis-url": { type: "string" },
    runner: { type: "string" },
  });
  const runner = cli.runnerOption(values.runner);
  const rounds = cli.integerOption("rounds", values.rounds, 2, { min: 1, max: 10 });
  const durationMs = cli.durationOption("duration", values.duration, 10_000, {
    minMs: 1_000,
    maxMs: 300_000,
  });
  const userCount = cli.integerOption("users", values.users, 1000, { min: W2_CONNECTIONS, max: 5000 });
  const w4Rate = cli.integerOption("w4-rate", values["w4-rate"], 50, { min: 1, max: 1000 });
  const raises = cli.choiceOption("w2-raises", values["w2-raises"], ["own", "top"]);
  const withWebhooks = values["no-webhooks"] !== true;
  // With one user per connection, a top raise comes straight after its own 201 and can retake the
  // lead in the batch that lost it; expected-events.ts would then count an event the object never writes.
  if (withWebhooks && raises === "top" && userCount < 2 * W2_CONNECTIONS) {
    throw new cli.UsageError(`--w2-raises top with webhooks needs --users ${2 * W2_CONNECTIONS} or more`);
  }
  const pgServer = cli.databaseUrlOption(values["pg-server"] ?? DEFAULT_SERVER_URL);
  const redisUrl = cli.redisUrlOption(values["redis-url"], "redis://127.0.0.1:6379") ?? "";

  const missing = missingPeerPackages();
  if (missing.length > 0) {
    console.error(
      `bench:reference: the reference design (${PEER_DIR}) cannot run here: missing ${missing.join(", ")}.\n` +
        `Install them (this benchmark installs nothing): sudo apt-get install -y ${missing.join(" ")}`,
    );
    return 1;
  }
  const elsewhere = ReferencePeer.runningElsewhere();
  if (elsewhere) {
    throw new Error(
      `${elsewhere}: another benchmark (or a developer) is using the peer; stop it with run.sh stop`,
    );
  }

  const cleanups = new Cleanups();
  const abort = new AbortController();
  let stopping = false;
  const stopNow = (why: string, code: number) => {
    if (stopping) process.exit(code);
    stopping = true;
    abort.abort();
    console.error(`\nbench:reference: ${why}: cleaning up (again to quit at once)`);
    void cleanups.runAll().then(() => process.exit(code));
  };
  process.on("SIGINT", () => stopNow("interrupted", 130));
  process.on("SIGTERM", () => stopNow("terminated", 143));
  // Bounded whatever happens: past the longest plausible run, stop and clean up.
  const deadlineMs = 600_000 + rounds * (16 * durationMs + 360_000);
  setTimeout(
    () => stopNow(`still running after ${Math.round(deadlineMs / 60_000)} min`, 1),
    deadlineMs,
  ).unref();

  const results = emptyResults();
  const notes: string[] = [];
  try {
    const started = await startSystems(cleanups, {
      prefix: "refbench",
      peerPrefix: "refpeer",
      runner,
      pgServer,
      redisUrl,
      log,
      vars: {
        BID_RATE_PER_SECOND: "100000",
        BID_RATE_BURST: "100000",
        // The receiver is http://127.0.0.1 (src/webhooks/url-policy.ts).
        ...(withWebhooks ? { WEBHOOK_ALLOW_LOOPBACK: "true" } : {}),
      },
    });

    const { tag, service: stack, serviceDb, serviceDbUrl, peer, peerDb } = started;
    // As many workerd processes as npm start gives the product here (tools/serve.ts).
    const floorProcesses = defaultProcesses(redisUrl !== "");
    log(
      `platform floor: load/benchmarks/floor/, served as ${stack.command} serves (${floorProcesses} process(es))...`,
    );
    const floor = await startFloorWorker(runner, floorProcesses);
    cleanups.add(
      "floor Worker",
      () => floor.stop(),
      () => floor.killNow(),
    );

    const adminToken = await signAdminToken(TOKEN_SECONDS);
    let webhooks: WebhookBench | undefined;
    if (withWebhooks) {
      const receiver = await ReceiverProcess.start();
      cleanups.add(
        "webhook receiver",
        () => receiver.stop(),
        () => receiver.stopNow(),
      );
      webhooks = { receiver, tag };
      log(`webhook receiver: ${`${receiver.url}/`} (pid ${receiver.pid})`);
    }
    const usernames = Array.from({ length: userCount }, (_, i) => `rb${tag}_${i + 1}`);
    const contenders: Contender[] = [];
    for (const system of [
      serviceSystem(stack, serviceDbUrl, adminToken),
      referenceSystem(peer, databaseUrlOf(pgServer, peerDb)),
    ]) {
      const api = new BiddingApi(new HttpClient(system.url, { maxSockets: 4 }), adminToken);
      cleanups.add(`${system.label} client`, async () => api.client.close());
      const users = await api.createBidders(usernames, TOKEN_SECONDS);
      contenders.push({ system, api, users });
      log(`${system.label}: ${users.length} users created`);
    }

    const faultPlan: FaultPlan = {
      ratePerSecond: w4Rate,
      beforeMs: Math.max(5_000, durationMs),
      downMs: W4_DOWN_MS,
      afterMs: Math.max(5_000, durationMs),
    };
    await runRounds({
      contenders,
      rounds,
      durationMs,
      faultPlan,
      raises,
      webhooks,
      floor: targetOf(floor),
      signal: abort.signal,
      results,
      notes,
      log,
    });

    const loaderCores = maxLoaderCores(results);
    if (loaderCores > LOADER_CORES_WARNING) {
      notes.push(
        `the load generator used up to ${loaderCores.toFixed(2)} core (more than ${LOADER_CORES_WARNING}): ` +
          "on 2 cores that is taken from the servers, so the figures are lower than the machine allows",
      );
    }
    const headline = formatHeadline(results);
    console.log(
      [
        "",
        `side by side, ${rounds} round(s), ${durationMs / 1000} s per closed loop; this service served by ${stack.command}, the floor too; ` +
          "ratio = this service ÷ reference (W1: reference time ÷ ours), above 1 is better",
        headline,
        "",
        formatRounds(results),
        "",
        formatFloor(results),
        "",
        ...(results.w2Webhooks.length > 0
          ? [
              "W2 with a webhook subscription (every event, to the receiver process), beside plain W2 in the same rounds:",
              formatWebhooks(results),
              "",
            ]
          : []),
        "CPU per process tree (cores = CPU-seconds per second of the measurement):",
        formatCpu(results),
        "",
        `load generator: at most ${loaderCores.toFixed(2)} core in any measurement`,
        ...notes.map((note) => `NOTE: ${note}`),
      ].join("\n"),
    );
    const path = writeReport("reference-bench", {
      kind: "reference-bench",
      at: new Date().toISOString(),
      options: {
        rounds,
        durationMs,
        users: userCount,
        w4Rate,
        faultPlan,
        w2Raises: raises,
        webhooks: withWebhooks,
      },
      systems: {
        service: { url: stack.url.origin, database: serviceDb, command: stack.command },
        reference: { url: peer.url.origin, database: peerDb, peer: PEER_DIR },
        floor: floor.url.origin,
        webhookReceiver: webhooks ? `${webhooks.receiver.url}/` : null,
      },
      headline,
      maxLoaderCores: loaderCores,
      notes,
      results,
    });
    console.log(`report: ${path}`);
    const serviceLost = results.w4.service.reduce((sum, run) => sum + run.lost, 0);
    return serviceLost > 0 ? 1 : 0;
  } catch (error) {
    console.error(`bench:reference: ${errorMessage(error)}`);
    return 1;
  } finally {
    log("cleaning up: floor Worker, reference design, this service, scratch databases...");
    await cleanups.runAll();
  }
}

cli.runCommand("bench:reference", USAGE, main);
