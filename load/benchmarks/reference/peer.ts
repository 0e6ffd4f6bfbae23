// The reference design (../shared/peers/reference-fastapi) through its own
// run.sh: start, stop, and its Redis killed and started again. It runs on
// Debian's system Python; this module installs nothing, it only says what is
// missing.
import { execFile, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "../../../tools/net.js";
import { dropDatabase } from "../../../tools/scratch-database.js";
import { readDevSecret } from "../../../tools/token.js";
import type { Cleanups } from "../../kit/cleanups.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const PEER_DIR = resolve(ROOT, "../shared/peers/reference-fastapi");
const PYTHON = "/usr/bin/python3";
const execFileAsync = promisify(execFile);
/** Fixed by run.sh. */
const PEER_REDIS_PORT = "6380";
const UVICORN_PID_FILE = "/tmp/peer-uvicorn.pid";
const REDIS_PID_FILE = "/tmp/peer-redis.pid";
const BUFFER_KEY = "bidding:bid_buffer";

/** Python module → the Debian package that brings it for /usr/bin/python3. */
const PYTHON_PACKAGES: Record<string, string> = {
  fastapi: "python3-fastapi",
  uvicorn: "python3-uvicorn",
  uvloop: "python3-uvloop",
  httptools: "python3-httptools",
  asyncpg: "python3-asyncpg",
  sqlalchemy: "python3-sqlalchemy",
  redis: "python3-redis",
};
/** Programs run.sh calls → their Debian package. */
const PROGRAMS: Record<string, string> = {
  "redis-server": "redis-server",
  "redis-cli": "redis-tools",
  psql: "postgresql-client",
  curl: "curl",
  setsid: "util-linux",
};

/** The Debian packages the peer needs and this machine lacks (empty when it can run). */
export function missingPeerPackages(): string[] {
  const missing: string[] = [];
  const hasPython = spawnSync(PYTHON, ["-c", "pass"]).status === 0;
  if (!hasPython) missing.push("python3");
  for (const [module, debianPackage] of Object.entries(PYTHON_PACKAGES)) {
    if (!hasPython || spawnSync(PYTHON, ["-c", `import ${module}`]).status !== 0) missing.push(debianPackage);
  }
  for (const [program, debianPackage] of Object.entries(PROGRAMS)) {
    if (spawnSync("sh", ["-c", `command -v ${program}`]).status !== 0) missing.push(debianPackage);
  }
  return missing;
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number | undefined): pid is number {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface PeerOptions {
  port: number;
  /** Its database on PG_ROOT, created by run.sh (PEER_FRESH=1 drops it first). */
  database: string;
  /** postgres://user@host:port, no database. */
  pgRoot: string;
  /** A file holding `JWT_SECRET=…`, the secret this run signs its tokens with. */
  devVarsFile: string;
  logFile: string;
}

export class ReferencePeer {
  constructor(private readonly options: PeerOptions) {}

  get url(): URL {
    return new URL(`http://127.0.0.1:${this.options.port}`);
  }

  /** Why another copy of the peer seems to be running (run.sh's pid files and Redis port are fixed), or undefined. */
  static runningElsewhere(): string | undefined {
    if (alive(readPid(UVICORN_PID_FILE))) return `a peer uvicorn is running (pid file ${UVICORN_PID_FILE})`;
    if (alive(readPid(REDIS_PID_FILE)) || ReferencePeer.redisAnswers()) {
      return `a Redis answers on the peer's port ${PEER_REDIS_PORT}`;
    }
    return undefined;
  }

  private static redisAnswers(): boolean {
    const ping = spawnSync("redis-cli", ["-p", PEER_REDIS_PORT, "ping"], {
      encoding: "utf8",
      timeout: 3_000,
    });
    return ping.stdout?.includes("PONG") ?? false;
  }

  /** uvicorn (its 4 workers are its children) and the peer's Redis: the roots of its process tree. */
  pids(): number[] {
    return [readPid(UVICORN_PID_FILE), readPid(REDIS_PID_FILE)].filter(alive);
  }

  start(): Promise<string> {
    return this.run("start", 90_000, { PEER_FRESH: "1" });
  }

  stop(): Promise<string> {
    return this.run("stop", 60_000);
  }

  /** Synchronous, for the process' exit handler. */
  stopNow(): void {
    spawnSync(resolve(PEER_DIR, "run.sh"), ["stop"], { cwd: ROOT, env: this.env({}), timeout: 30_000 });
  }

  redisKill(): Promise<string> {
    return this.run("redis-kill", 15_000);
  }

  redisStart(): Promise<string> {
    return this.run("redis-start", 15_000);
  }

  /** Bids acknowledged and not yet taken by a worker's drain. */
  async bufferLength(): Promise<number> {
    const { stdout } = await execFileAsync("redis-cli", ["-p", PEER_REDIS_PORT, "llen", BUFFER_KEY], {
      timeout: 5_000,
    });
    const length = Number(stdout.trim());
    if (!Number.isInteger(length)) throw new Error(`redis-cli llen: ${stdout.trim()}`);
    return length;
  }

  private env(extra: Record<string, string>): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PEER_PORT: String(this.options.port),
      PEER_DB: this.options.database,
      PG_ROOT: this.options.pgRoot,
      PEER_DEV_VARS: this.options.devVarsFile,
      PEER_LOG: this.options.logFile,
      ...extra,
    };
  }

  /** run.sh from the project root, as its README says; resolves with what it printed. */
  private run(command: string, timeoutMs: number, extra: Record<string, string> = {}): Promise<string> {
    return new Promise((done, fail) => {
      execFile(
        resolve(PEER_DIR, "run.sh"),
        [command],
        { cwd: ROOT, env: this.env(extra), timeout: timeoutMs },
        (error, stdout, stderr) => {
          const output = `${stdout}${stderr}`.trim();
          if (error) fail(new Error(`run.sh ${command} failed: ${output || error.message}`));
          else done(output);
        },
      );
    });
  }
}

/** `postgres://user@host:port` without a database, as run.sh's PG_ROOT. */
function serverRoot(serverUrl: string): string {
  const url = new URL(serverUrl);
  const auth = url.username ? `${url.username}${url.password ? `:${url.password}` : ""}@` : "";
  return `${url.protocol}//${auth}${url.host}`;
}

/**
 * Starts the peer on a free port with a fresh `database` on `pgServer`,
 * signing with this checkout's dev secret; `cleanups` stops it and drops the
 * database. Returns it with what run.sh printed.
 */
export async function startPeer(
  pgServer: string,
  database: string,
  tempDir: string,
  cleanups: Cleanups,
): Promise<{ peer: ReferencePeer; output: string }> {
  const devVarsFile = join(tempDir, "peer.dev.vars");
  writeFileSync(devVarsFile, `JWT_SECRET=${readDevSecret()}\n`);
  const peer = new ReferencePeer({
    port: await freePort("127.0.0.1"),
    database,
    pgRoot: serverRoot(pgServer),
    devVarsFile,
    logFile: join(tempDir, "peer-uvicorn.log"),
  });
  cleanups.add("reference database", () => dropDatabase(pgServer, database));
  cleanups.add(
    "reference design",
    () => peer.stop(),
    () => peer.stopNow(),
  );
  return { peer, output: await peer.start() };
}
