// How `npm start` serves a Worker: bundled the way `wrangler deploy` bundles
// it, with every binding wrangler computes from its wrangler.toml, in
// Miniflare (the API wrangler itself drives workerd with), on a direct socket
// of the Worker's own: no dev proxy, no entry Worker, no per-request log line.
// The benchmarks serve their floor Worker the same way.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import {
  convertV4MiniflareOptions,
  getDirectSocketName,
  type Json,
  type Log,
  Miniflare,
  type V4WorkerOptions,
} from "miniflare";
import { ROOT } from "./local-stack.js";
import { errorMessage, withPlaceholderPassword } from "./net.js";

const FRONT_DOOR_MODULE = join(ROOT, "src/front-door.ts");
const FRONT_DOOR = "FrontDoor";
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

// wrangler prints its banner and tables at import unless told not to.
async function wrangler() {
  process.env.WRANGLER_LOG ??= "error";
  return import("wrangler");
}

export interface BuiltWorker {
  configPath: string;
  /** The build folder: the bundle, and what the served processes keep for this run only. */
  outDir: string;
  /** The Worker's name in wrangler.toml: its objects' state is kept under it. */
  name: string;
  modulePath: string;
}

/**
 * Bundles the Worker of `configPath` as `wrangler deploy` would (offline,
 * `--dry-run`), with the front door (src/front-door.ts) as one more export.
 */
export async function buildWorker(configPath: string, outDir: string): Promise<BuiltWorker> {
  const { unstable_readConfig } = await wrangler();
  const config = unstable_readConfig({ config: configPath });
  if (config.main === undefined) throw new Error(`${configPath} names no main module`);
  const main = resolve(dirname(configPath), config.main);
  const firsts = config.assets?.run_worker_first;
  const workerFirst = Array.isArray(firsts) ? firsts : [];
  mkdirSync(outDir, { recursive: true });
  const entry = join(outDir, "served.ts");
  writeFileSync(
    entry,
    [
      `import worker from ${JSON.stringify(main)};`,
      `import { frontDoor } from ${JSON.stringify(FRONT_DOOR_MODULE)};`,
      `export * from ${JSON.stringify(main)};`,
      "export default worker;",
      `export const ${FRONT_DOOR} = frontDoor(worker, ${JSON.stringify(workerFirst)});`,
      "",
    ].join("\n"),
  );
  const bundleDir = join(outDir, "bundle");
  const args = [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", entry, "--dry-run"];
  args.push("--outdir", bundleDir, "--config", configPath);
  let output = "";
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-4_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", fail);
    child.on("exit", done);
  });
  if (code !== 0) throw new Error(`the build failed (wrangler deploy --dry-run):\n${output.trim()}`);
  return { configPath, outDir, name: config.name ?? "worker", modulePath: join(bundleDir, "served.js") };
}

/** The secrets a Worker declares: the names its `.dev.vars.example` lists. */
export function declaredSecrets(configPath = join(ROOT, "wrangler.toml")): string[] {
  try {
    return readFileSync(join(dirname(configPath), ".dev.vars.example"), "utf8")
      .split("\n")
      .flatMap((line) => /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1] ?? []);
  } catch {
    return [];
  }
}

// wrangler's options type loses the field types (an index signature): the vars are checked here.
function isBindings(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface ServeOptions {
  worker: BuiltWorker;
  host: string;
  port: number;
  /** Objects, alarms and queues are kept here, in wrangler's layout (`wrangler dev --persist-to`). */
  persistTo: string;
  /** The database every Hyperdrive binding connects to, if the Worker has one. */
  databaseUrl?: string;
  /** Laid over everything else: what the local stack started. */
  bindings?: Record<string, string>;
  /** workerd's own V8 inspector, for profiles. */
  inspectorPort?: number;
  log: Log;
  /** workerd processes sharing the socket (default 1); the first holds the objects and the queue consumers. */
  processes?: number;
}

export interface Served {
  /** The names of the Worker's bindings, in each process. */
  bindingNames(): Promise<string[][]>;
  dispose(): Promise<void>;
}

/**
 * workerd runs one thread per process. On more cores, more processes share
 * the socket, as `uvicorn --workers` does: the kernel spreads the connections
 * (SO_REUSEPORT, tools/workerd-shared-port). Each session's object still
 * lives in one process, the first; the others reach it through Miniflare's
 * dev registry, one hop per call, and with coalescing a call carries a batch.
 */
export async function serveWorker(options: ServeOptions): Promise<Served> {
  const count = options.processes ?? 1;
  if (count <= 1) {
    // Inherited from a parent that served several: plain workerd here.
    if (process.env.MINIFLARE_WORKERD_PATH === SHARED_PORT_WORKERD) delete process.env.MINIFLARE_WORKERD_PATH;
    const miniflare = await serveProcess(options);
    return servedBy([miniflare]);
  }
  if (options.port === 0) throw new Error("several processes share one port: give it a number");
  // A registry of this run only: a killed run's entries would send the fronts to a dead port.
  const registryPath = join(options.worker.outDir, "dev-registry");
  rmSync(registryPath, { recursive: true, force: true });
  // Read by Miniflare whenever it starts workerd, a restart after a crash included.
  process.env.MINIFLARE_WORKERD_PATH = SHARED_PORT_WORKERD;
  const started: Miniflare[] = [];
  try {
    for (let index = 0; index < count; index++) {
      started.push(await serveProcess(options, { registryPath, index }));
    }
  } catch (error) {
    await servedBy(started).dispose();
    throw error;
  }
  return servedBy(started);
}

function servedBy(processes: Miniflare[]): Served {
  return {
    bindingNames: () =>
      Promise.all(processes.map(async (miniflare) => Object.keys(await miniflare.getBindings()))),
    dispose: async () => {
      await Promise.all(processes.splice(0).map((miniflare) => miniflare.dispose()));
    },
  };
}

/**
 * One process per core, up to two: the objects' process and one more front.
 * Only where the kernel spreads a shared port's connections (Linux), and with
 * the cache on: without it, the first bids a front records for
 * `GET /v1/me/bids` stay in that front's memory until the flush.
 */
export function defaultProcesses(cacheOn: boolean): number {
  if (process.platform !== "linux" || !cacheOn || availableParallelism() < 2) return 1;
  // The socket's wrapper (tools/workerd-shared-port) is a Python script.
  return spawnSync("python3", ["-c", ""], { stdio: "ignore" }).status === 0 ? 2 : 1;
}

/** `--processes N` of the serving scripts: undefined when not given. */
export function processesOption(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]?$/.test(raw)) throw new Error(`--processes ${raw} is not a number from 1 to 99`);
  return Number(raw);
}

const SHARED_PORT_WORKERD = join(ROOT, "tools/workerd-shared-port");

/** The workerd binary of Miniflare's own dependency: the wrapper runs it. */
function workerdBinary(): string {
  const fromMiniflare = createRequire(createRequire(import.meta.url).resolve("miniflare"));
  const binary: unknown = fromMiniflare("workerd").default;
  if (typeof binary !== "string") throw new Error("cannot find the workerd binary that miniflare runs");
  return binary;
}

/** One of several processes on the socket: the first (index 0) holds the objects. */
interface Sibling {
  registryPath: string;
  index: number;
}

/**
 * One workerd process: the options wrangler computes from wrangler.toml
 * (objects, queues and their consumers, Hyperdrive, Analytics Engine, assets,
 * vars and `.dev.vars`), the environment laid over vars and secrets, the
 * bundle instead of wrangler's module rules, the front door on the socket.
 * A sibling past the first calls the first's objects and consumes no queue.
 * Miniflare's own signal handlers (they exit 130/143) are removed: the caller
 * stops it.
 */
async function serveProcess(options: ServeOptions, sibling?: Sibling): Promise<Miniflare> {
  const { unstable_getMiniflareWorkerOptions } = await wrangler();
  if (options.databaseUrl !== undefined) {
    // Read when the options are built.
    process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE = withPlaceholderPassword(
      options.databaseUrl,
    );
  }
  const { configPath, name, modulePath } = options.worker;
  const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath);
  // modulesRules would load the bundle as CommonJS; rootPath is wrangler's own.
  const { modulesRules: _rules, rootPath: _root, bindings: declared, ...rest } = workerOptions;
  const bindings = isBindings(declared) ? declared : {};
  const fromEnvironment: Record<string, string> = {};
  for (const key of new Set([...Object.keys(bindings), ...declaredSecrets(configPath)])) {
    const value = process.env[key];
    if (value !== undefined) fromEnvironment[key] = value;
  }
  const worker: V4WorkerOptions = {
    ...rest,
    name,
    modulesRoot: dirname(modulePath),
    modules: [{ type: "ESModule", path: modulePath }],
    bindings: { ...bindings, ...fromEnvironment, ...options.bindings },
    unsafeDirectSockets: [{ host: options.host, port: options.port, entrypoint: FRONT_DOOR }],
  };
  let persistTo = join(options.persistTo, "v3");
  if (sibling !== undefined && sibling.index > 0) {
    // Another name (the registry's key); the objects are the first process'; its own state is this run's.
    worker.name = `${name}-front-${sibling.index}`;
    worker.durableObjects = Object.fromEntries(
      Object.entries(worker.durableObjects ?? {}).map(([binding, object]) => [
        binding,
        { className: typeof object === "string" ? object : object.className, scriptName: name },
      ]),
    );
    worker.queueConsumers = undefined;
    persistTo = join(options.worker.outDir, `front-${sibling.index}`);
  }
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const dropMiniflareSignalHandlers = () => {
    for (const signal of SIGNALS) {
      for (const listener of process.listeners(signal)) {
        if (!before.get(signal)?.has(listener)) process.off(signal, listener);
      }
    }
  };
  // wrangler speaks Miniflare's v4 option shape (no dev registry unless a path is given).
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      workers: [worker],
      // Miniflare's own entry socket is unused: a free loopback port, out of the way.
      host: "127.0.0.1",
      port: 0,
      inspectorPort: sibling === undefined || sibling.index === 0 ? options.inspectorPort : undefined,
      cf: false,
      logRequests: false,
      telemetry: { enabled: false },
      log: options.log,
      resourcePersistencePath: persistTo,
      ...(sibling && {
        unsafeDevRegistryPath: sibling.registryPath,
        unsafeRuntimeEnv: {
          WORKERD_SHARED_SOCKET: `${getDirectSocketName(0, FRONT_DOOR)}=${options.host}:${options.port}`,
          WORKERD_BINARY: workerdBinary(),
        },
      }),
    }),
  );
  dropMiniflareSignalHandlers();
  await miniflare.ready;
  dropMiniflareSignalHandlers();
  return miniflare;
}

/** Registers a way to stop something that started; they run newest first. */
export type OnStop = (close: () => Promise<void>) => void;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs a server script: `main` gets a build folder of this process' own
 * (under .wrangler/serve, so two servers never share one; those a killed
 * server left are removed) and registers what it starts. SIGINT, SIGTERM or
 * SIGHUP stops everything, newest first, and exits 0 within 5 s; a failure
 * is one line on stderr, no stack, and exit 1.
 */
export function runUntilSignal(
  label: string,
  main: (buildDir: string, onStop: OnStop) => Promise<void>,
): void {
  const buildRoot = join(ROOT, ".wrangler/serve");
  const buildDir = join(buildRoot, String(process.pid));
  const closers: (() => Promise<void>)[] = [async () => rmSync(buildDir, { recursive: true, force: true })];
  let stopping: Promise<never> | undefined;
  const stop = (exitCode: number) => {
    stopping ??= (async () => {
      // Past this a stop is forced: whatever was acknowledged is already stored.
      setTimeout(() => process.exit(exitCode), 4_000).unref();
      for (const close of closers.splice(0).reverse()) {
        await close().catch((error: unknown) =>
          console.error(`${label}: while stopping: ${errorMessage(error)}`),
        );
      }
      process.exit(exitCode);
    })();
    return stopping;
  };
  for (const signal of SIGNALS) process.on(signal, () => void stop(0));
  for (const entry of existsSync(buildRoot) ? readdirSync(buildRoot) : []) {
    if (!isRunning(Number(entry))) rmSync(join(buildRoot, entry), { recursive: true, force: true });
  }
  main(buildDir, (close) => closers.push(close)).catch((error: unknown) => {
    console.error(`${label}: ${errorMessage(error)}`);
    void stop(1);
  });
}
