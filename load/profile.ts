// npm run profile -- --inspector-port 9229 [--seconds 10] [--out load/results/bids.cpuprofile]
//   [--interval-us 500] [--runtime-inspector-port N | --no-runtime] [--bundle .wrangler/tmp/dev-…/worker.js]
// npm run profile -- --in load/results/bids.cpuprofile [--in …] [--bundle …]
//
// A V8 CPU profile of the Worker under `wrangler dev`, taken through the inspector while
// something else drives the load, summarised by where the time goes (Hono, validation, JWT,
// JSON, calls to the object, the object's rules, SQLite, the flush, logging …).
//
// What runs where locally (wrangler 4.156):
//  - `--inspector-port` is wrangler's inspector proxy (a Worker in the dev proxy's own workerd
//    process). It exposes one target: the user Worker's isolate, which is also where its Durable
//    Objects run, so one profile holds both; samples are split into Worker and object by the
//    source files on their stack. With the objects in a Worker of their own (a second
//    `wrangler dev`, bound by `script_name`), profile each process through its own port.
//  - The runtime's workerd has its own inspector on a random port (`--inspector-addr`), with one
//    target per isolate: miniflare's entry Worker (every request passes through it), the local
//    observability collector (on unless X_LOCAL_OBSERVABILITY=false), the dev-registry proxy
//    (calls to other `wrangler dev` processes). This script finds that port from /proc and
//    profiles those too. It never attaches to the user Workers there: wrangler's proxy holds their
//    sessions, and a second one breaks the proxy's until wrangler restarts.
//  - The V8 profiler only samples while an isolate is running. Time the runtime spends outside
//    every isolate (HTTP, sockets, RPC transport, SQLite commits, the event loop, the kernel) is
//    the process CPU from /proc minus what the profiles saw; the summary prints both.
//  - Native calls the profiler shows as no frame of their own (an object stub's methods, SQLite
//    cursors, functions V8 inlined) leave their time on the calling line: see LINE_BUCKETS, and the
//    "top source lines" list, where a function's first line stands for its inlined callees.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { SourceMap } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import WebSocket from "ws";
import { integerOption, parseOptions, runCommand, UsageError } from "./args.js";
import { CpuMeter, describeCpu } from "./process-cpu.js";

const USAGE = `usage: npm run profile -- --inspector-port N [--seconds 10] [--out load/results/profile.cpuprofile]
                       [--interval-us 500] [--runtime-inspector-port N | --no-runtime] [--bundle PATH]
       npm run profile -- --in FILE.cpuprofile [--in …] [--bundle PATH]
  --inspector-port          wrangler dev's --inspector-port (start the stack with: npm run dev -- --inspector-port N)
  --runtime-inspector-port  the runtime workerd's own inspector (found from the process tree when omitted)
  --bundle                  the bundled worker.js whose source map names the files (default: the copy
                            saved next to the profile, else the newest .wrangler/tmp/dev-*/<script> here)`;

// ---- the Chrome DevTools Protocol, as much as this needs ----------------------

interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

interface InspectorTarget {
  id: string;
  title?: string;
  description?: string;
  webSocketDebuggerUrl: string;
}

interface CdpReply {
  id?: number;
  result?: Record<string, unknown>;
  error?: { message: string };
}

class InspectorSession {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: CdpReply) => void>();

  private constructor(
    readonly label: string,
    private readonly socket: WebSocket,
  ) {
    socket.on("message", (data) => {
      let reply: CdpReply;
      try {
        reply = JSON.parse(String(data)) as CdpReply;
      } catch {
        return;
      }
      // Ids we did not send (wrangler's proxy has its own traffic) and events are ignored.
      if (reply.id === undefined) return;
      const resolve = this.pending.get(reply.id);
      if (!resolve) return;
      this.pending.delete(reply.id);
      resolve(reply);
    });
    socket.on("close", () => {
      for (const resolve of this.pending.values()) resolve({ error: { message: "inspector socket closed" } });
      this.pending.clear();
    });
  }

  static open(label: string, url: string): Promise<InspectorSession> {
    return new Promise((resolve, reject) => {
      // wrangler's proxy checks Host and Origin like a browser's DevTools would send them.
      const socket = new WebSocket(url, {
        headers: { Origin: "http://localhost" },
        perMessageDeflate: false,
      });
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`${label}: no inspector WebSocket at ${url} within 5 s`));
      }, 5_000);
      socket.once("open", () => {
        clearTimeout(timer);
        resolve(new InspectorSession(label, socket));
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`${label}: ${error.message}`));
      });
    });
  }

  /**
   * Sends a command. Replies are matched by id; workerd answers some commands by echoing the
   * request without a result, which counts as success. A timeout is an error.
   */
  send(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<CdpReply> {
    // Ids far from wrangler's own (it counts from 1e8).
    const id = 7_000_000 + this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: ${method} had no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.error) reject(new Error(`${this.label}: ${method}: ${reply.error.message}`));
        else resolve(reply);
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.socket.close();
  }
}

async function listTargets(port: number): Promise<InspectorTarget[]> {
  const response = await fetch(`http://127.0.0.1:${port}/json`, {
    headers: { Origin: "http://localhost" },
    signal: AbortSignal.timeout(3_000),
  });
  if (!response.ok) throw new Error(`http://127.0.0.1:${port}/json answered ${response.status}`);
  return (await response.json()) as InspectorTarget[];
}

/** workerd's own inspector lists `workerd worker` targets; wrangler's proxy lists one `workers` target. */
function isRuntimeInspector(targets: readonly InspectorTarget[]): boolean {
  return targets.some((t) => t.description === "workerd worker");
}

// ---- finding the runtime's workerd and its inspector from /proc --------------

interface ProcessInfo {
  pid: number;
  parent: number;
  name: string;
  cmdline: string[];
}

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const parent = Number(stat.slice(close + 2).split(" ")[1]);
    const name = stat.slice(stat.indexOf("(") + 1, close);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    return { pid, parent, name, cmdline };
  } catch {
    return undefined;
  }
}

function allProcesses(): ProcessInfo[] {
  return readdirSync("/proc")
    .filter((entry) => /^[0-9]+$/.test(entry))
    .flatMap((entry) => readProcess(Number(entry)) ?? []);
}

/** Listening loopback TCP ports by socket inode, from /proc/net/tcp. */
function listeningInodes(): Map<string, number> {
  const byInode = new Map<string, number>();
  let text = "";
  try {
    text = readFileSync("/proc/net/tcp", "utf8");
  } catch {
    return byInode;
  }
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const state = fields[3];
    const inode = fields[9];
    if (!local || state !== "0A" || !inode) continue;
    const port = Number.parseInt(local.split(":")[1] ?? "", 16);
    if (Number.isInteger(port)) byInode.set(inode, port);
  }
  return byInode;
}

function listeningPorts(pid: number, inodes: Map<string, number>): number[] {
  const ports: number[] = [];
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return ports;
  }
  for (const fd of fds) {
    let link = "";
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const inode = link.match(/^socket:\[([0-9]+)\]$/)?.[1];
    const port = inode === undefined ? undefined : inodes.get(inode);
    if (port !== undefined) ports.push(port);
  }
  return ports;
}

interface DevProcesses {
  /** The workerd that serves wrangler's proxy (the API port and the inspector proxy). */
  proxy?: ProcessInfo;
  /** wrangler's Node process, parent of both workerd processes. */
  wrangler?: ProcessInfo;
  /** The workerd that runs the Worker and its objects. */
  runtimes: ProcessInfo[];
}

/** From wrangler's inspector port to the processes of that `wrangler dev`. */
function findDevProcesses(inspectorPort: number): DevProcesses {
  const processes = allProcesses();
  const inodes = listeningInodes();
  const proxy = processes.find(
    (p) => p.name === "workerd" && listeningPorts(p.pid, inodes).includes(inspectorPort),
  );
  if (!proxy) return { runtimes: [] };
  const wrangler = processes.find((p) => p.pid === proxy.parent);
  const runtimes = processes.filter(
    (p) =>
      p.parent === proxy.parent &&
      p.pid !== proxy.pid &&
      p.name === "workerd" &&
      p.cmdline.some((arg) => arg.startsWith("--inspector-addr")),
  );
  return { proxy, wrangler, runtimes };
}

async function findRuntimeInspectorPort(runtime: ProcessInfo): Promise<number | undefined> {
  for (const port of listeningPorts(runtime.pid, listeningInodes())) {
    try {
      if (isRuntimeInspector(await listTargets(port))) return port;
    } catch {
      // Not an inspector: the entry socket, the debug port.
    }
  }
  return undefined;
}

// ---- buckets -------------------------------------------------------------------

/** Where a sample's time went. The order is the order of the printed table. */
export const BUCKETS = [
  "Hono routing, middleware, route handlers",
  "zod / openapi validation",
  "JWT verification (hono/jwt, crypto.subtle)",
  "JSON parse / stringify, body reading",
  "calls to the object (stub, RPC)",
  "object: rules, ranking, state",
  "object: SQLite (sql.exec, transactionSync)",
  "object: flush to PostgreSQL (drizzle, pg)",
  "usernames: cache / directory",
  "logging / analytics",
  "wrangler dev middleware",
  "miniflare's own Workers (entry, collector, dev-registry proxy)",
  "runtime built-ins, node compat",
  "other JS",
  "(program): runtime native with the isolate locked",
  "(garbage collector)",
] as const;
export type Bucket = (typeof BUCKETS)[number];

/** Source files (as the source map names them) to buckets; the first match wins. */
const FILE_BUCKETS: [RegExp, Bucket][] = [
  [
    /hono\/dist\/(utils|middleware)\/jwt\/|hono\/dist\/utils\/encode\.js|^src\/http\/(auth|jwks|token-cache|token-verifier)\.ts$/,
    BUCKETS[2],
  ],
  [
    /node_modules\/(zod|@hono\/zod-openapi|@hono\/zod-validator|@asteasolutions\/zod-to-openapi)\/|hono\/dist\/validator\/|^src\/http\/(schemas|contract)\.ts$/,
    BUCKETS[1],
  ],
  [/hono\/dist\/utils\/body\.js/, BUCKETS[3]],
  [/node_modules\/hono\/|node_modules\/@hono\/|^src\/http\/|^src\/worker\.ts$|^src\/routes\//, BUCKETS[0]],
  [/^src\/objects\/session-client\.ts$/, BUCKETS[4]],
  [/^src\/objects\/(session-store|store-migrations)\.ts$/, BUCKETS[6]],
  [/^src\/objects\/(postgres-)?flush\.ts$|^src\/db\//, BUCKETS[7]],
  [/^src\/observability\//, BUCKETS[9]],
  [/^src\/objects\/|^src\/bidding\/|^src\/config\.ts$/, BUCKETS[5]],
  [
    /node_modules\/(pg|pg-[a-z-]+|postgres-[a-z]+|drizzle-orm|@neondatabase\/serverless|pgpass|split2|xtend)\//,
    BUCKETS[7],
  ],
  [/node_modules\/(@upstash|uncrypto)\/|^src\/users\//, BUCKETS[8]],
  [/wrangler\/templates\/|(^|\/)bundle-[A-Za-z0-9]+\/middleware-/, BUCKETS[10]],
  [/^(node-internal|cloudflare-internal|node|internal):/, BUCKETS[12]],
];

/**
 * Native calls the profiler does not show as frames of their own (the object stub's methods are
 * property interceptors, SQLite cursors run inside the caller's line …) leave their time on the
 * calling line. A JS frame's self time on a line of the bundle that makes one of these calls goes
 * to that call's bucket.
 */
const LINE_BUCKETS: [RegExp, Bucket][] = [
  [/\.getByName\(|\.idFromName\(|\bsessionObject\(|\.placeBids?\(|\.myBid\(|\.getSession\(/, BUCKETS[4]],
  [/\bsql\.exec\(|transactionSync\(/, BUCKETS[6]],
  [/\bJSON\.(parse|stringify)\(|\.json\(\)/, BUCKETS[3]],
  [/crypto\.subtle\./, BUCKETS[2]],
  [/\bconsole\.(log|error|warn|info|debug)\(|\.writeDataPoint\(/, BUCKETS[9]],
];

/**
 * Files whose frames make a sample the object's rather than the Worker's: src/objects/ except the
 * Worker's side of the calls (the stub helpers).
 */
const OBJECT_FILES = /^src\/objects\/(?!session-client\.ts$)|^src\/bidding\//;

/** Native functions (no script) that name their own bucket; the rest take their caller's. */
const NATIVE_BUCKETS: [RegExp, Bucket][] = [
  [/^(parse|stringify|json|text|arrayBuffer)$/, BUCKETS[3]],
  [/^(verify|importKey|sign|digest)$/, BUCKETS[2]],
  [/^(exec|transactionSync|transaction|toArray|one|raw)$/, BUCKETS[6]],
  [/^(log|error|warn|info|debug|writeDataPoint)$/, BUCKETS[9]],
  [
    /^(getByName|idFromName|idFromString|newUniqueId|placeBid|placeBids|myBid|getSession|updateSession|initialize|leaderboard|stats|board)$/,
    BUCKETS[4],
  ],
];

type Side = "Worker" | "object" | "runtime";

/**
 * miniflare's own Workers in the runtime process that do real work per request: the entry Worker
 * every request passes through, the observability collector (streaming tails of every invocation,
 * stored in SQLite; X_LOCAL_OBSERVABILITY=false turns it off), the dev-registry proxy that carries
 * calls to Workers of other `wrangler dev` processes. The user Workers (`core:user:<name>`) are not
 * here: wrangler's proxy holds their sessions.
 */
const RUNTIME_TARGET = /^core:(entry|user:miniflare-.*|user:dev-registry-proxy)$/;

/** A label is a target id, or (--in) a file name made from one: `bids.core_entry` → `core:entry`. */
function runtimeLabel(label: string): string {
  return label.includes(":") ? label : label.replace(/^.*?\.(?=core_)/, "").replace(/_/g, ":");
}

/** Maps a bundle's positions to original files with its source map. */
class SourceFiles {
  private readonly maps = new Map<string, SourceMap | null>();
  private readonly lines = new Map<string, string[]>();

  constructor(private readonly bundleDir: string | undefined) {}

  private mapFor(url: string): SourceMap | null {
    const name = basename(url);
    let map = this.maps.get(name);
    if (map !== undefined) return map;
    map = null;
    if (this.bundleDir) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(join(this.bundleDir, `${name}.map`), "utf8")));
      } catch {
        map = null;
      }
    }
    this.maps.set(name, map);
    return map;
  }

  /** Line `line` (1-based) of the bundled script, for the line rules. */
  bundleLine(url: string, line: number): string {
    const name = basename(url);
    let lines = this.lines.get(name);
    if (!lines) {
      lines = [];
      if (this.bundleDir) {
        try {
          lines = readFileSync(join(this.bundleDir, name), "utf8").split("\n");
        } catch {
          lines = [];
        }
      }
      this.lines.set(name, lines);
    }
    return lines[line - 1] ?? "";
  }

  /** `src/routes/bids.ts:66` for line `line` (1-based) of the bundle. */
  lineOf(url: string, line: number): string {
    const map = this.mapFor(url);
    if (!map) return "";
    const text = this.bundleLine(url, line);
    const column = Math.max(0, text.search(/\S/));
    const entry = map.findEntry(line - 1, column) as { originalSource?: string; originalLine?: number };
    if (!entry.originalSource || entry.originalLine === undefined) return "";
    return `${this.normalise(entry.originalSource)}:${entry.originalLine + 1}`;
  }

  /**
   * A source map's path as the rules read it. wrangler's maps name sources relative to the build
   * directory (.wrangler/tmp/dev-…/): `../../../src/x.ts` is the project's `src/x.ts`, and
   * `../bundle-…/middleware-loader.entry.ts` is wrangler's own. The leading `../` go, so a copy of
   * the bundle saved elsewhere reads the same.
   */
  private normalise(source: string): string {
    const path = source.replace(/^file:\/\//, "");
    const nodeModules = path.lastIndexOf("node_modules/");
    if (nodeModules >= 0) return path.slice(nodeModules);
    return path.replace(/^(\.\.?\/)+/, "");
  }

  /** `src/objects/session-store.ts`, `node_modules/hono/dist/context.js`, or the url itself. */
  fileOf(frame: CallFrame): string {
    if (!frame.url) return "";
    const map = this.mapFor(frame.url);
    if (!map || frame.lineNumber < 0) return frame.url;
    const entry = map.findEntry(frame.lineNumber, Math.max(frame.columnNumber, 0)) as {
      originalSource?: string;
    };
    return entry.originalSource ? this.normalise(entry.originalSource) : frame.url;
  }
}

export interface BucketRow {
  bucket: Bucket;
  selfMs: number;
  inclusiveMs: number;
  workerSelfMs: number;
  objectSelfMs: number;
}

export interface ProfileSummary {
  label: string;
  /** Wall-clock span of the profile. */
  spanMs: number;
  /** One sample's worth of time (the sampling period, see samplePeriod). */
  tickMs: number;
  samples: number;
  idleMs: number;
  /** Sampled time that is not idle: the isolate ran, JS or runtime code under its lock. */
  busyMs: number;
  workerMs: number;
  objectMs: number;
  rows: BucketRow[];
  topFunctions: { name: string; file: string; bucket: Bucket; selfMs: number }[];
  /** Source lines with the most self time (JS frames only), `src/routes/bids.ts:66`. */
  topLines: { where: string; bucket: Bucket; selfMs: number }[];
}

/**
 * One sample's worth of time. V8 samples an isolate only while it runs, so the gaps between
 * samples are the sampling period when it runs on and longer when it does not (workerd runs every
 * isolate of the process on one thread, in short turns). The 10th percentile of the gaps is the
 * period; the median is not, for an isolate that runs in short turns.
 */
function samplePeriod(deltas: readonly number[]): number {
  const sorted = [...deltas].filter((d) => d > 0).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 10)] ?? 0;
}

/** Self and inclusive time by bucket, and the Worker / object split, for one profile. */
export function summarise(label: string, profile: CpuProfile, files: SourceFiles): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const runtimeWorker = RUNTIME_TARGET.test(runtimeLabel(label));

  // Per node: its own bucket (native frames inherit their caller's unless named), and its file.
  const fileOf = new Map<number, string>();
  const bucketOf = new Map<number, Bucket | null>();
  const resolveBucket = (id: number): Bucket | null => {
    const known = bucketOf.get(id);
    if (known !== undefined) return known;
    const node = nodes.get(id);
    if (!node) return null;
    const { functionName, url } = node.callFrame;
    let bucket: Bucket | null = null;
    if (functionName === "(root)" || functionName === "(idle)") bucket = null;
    else if (functionName === "(program)") bucket = BUCKETS[14];
    else if (functionName === "(garbage collector)") bucket = BUCKETS[15];
    else if (runtimeWorker) bucket = BUCKETS[11];
    else {
      const file = files.fileOf(node.callFrame);
      fileOf.set(id, file);
      if (url === "") {
        const named = NATIVE_BUCKETS.find(([pattern]) => pattern.test(functionName))?.[1];
        const up = parent.get(id);
        bucket = named ?? (up === undefined ? null : resolveBucket(up)) ?? BUCKETS[12];
      } else {
        bucket = FILE_BUCKETS.find(([pattern]) => pattern.test(file))?.[1] ?? BUCKETS[13];
        if (bucket === BUCKETS[12]) {
          // Node-compat internals count where they were called from.
          const up = parent.get(id);
          bucket = (up === undefined ? null : resolveBucket(up)) ?? BUCKETS[12];
        }
      }
    }
    bucketOf.set(id, bucket);
    return bucket;
  };

  const sideOf = new Map<number, Side>();
  const resolveSide = (id: number): Side => {
    const known = sideOf.get(id);
    if (known) return known;
    let side: Side = "runtime";
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      resolveBucket(at);
      const file = fileOf.get(at);
      if (file && OBJECT_FILES.test(file)) {
        side = "object";
        break;
      }
      if (file) side = "Worker";
    }
    if (runtimeWorker) side = "runtime";
    sideOf.set(id, side);
    return side;
  };

  // A JS frame's self time, split by the line rules over its lines' ticks.
  const sharesOf = new Map<number, [Bucket, number][]>();
  const lineTicks = new Map<string, { where: string; bucket: Bucket; ticks: number }>();
  const selfShares = (id: number, bucket: Bucket): [Bucket, number][] => {
    const known = sharesOf.get(id);
    if (known) return known;
    const node = nodes.get(id);
    const ticks = node?.positionTicks ?? [];
    let shares: [Bucket, number][] = [[bucket, 1]];
    if (node && node.callFrame.url !== "" && !runtimeWorker && ticks.length > 0) {
      const total = ticks.reduce((sum, t) => sum + t.ticks, 0);
      const byBucket = new Map<Bucket, number>();
      for (const tick of ticks) {
        const text = files.bundleLine(node.callFrame.url, tick.line);
        let lineBucket = LINE_BUCKETS.find(([pattern]) => pattern.test(text))?.[1] ?? bucket;
        // The token's own JSON stays with the JWT.
        if (bucket === BUCKETS[2] && lineBucket === BUCKETS[3]) lineBucket = bucket;
        byBucket.set(lineBucket, (byBucket.get(lineBucket) ?? 0) + tick.ticks / total);
        const where = files.lineOf(node.callFrame.url, tick.line) || `${node.callFrame.url}:${tick.line}`;
        const entry = lineTicks.get(where) ?? { where, bucket: lineBucket, ticks: 0 };
        entry.ticks += tick.ticks;
        lineTicks.set(where, entry);
      }
      shares = [...byBucket];
    }
    sharesOf.set(id, shares);
    return shares;
  };

  const samples = profile.samples ?? [];
  const tickMs = samplePeriod(profile.timeDeltas ?? []) / 1000;
  const self = new Map<Bucket, number>();
  const inclusive = new Map<Bucket, number>();
  const workerSelf = new Map<Bucket, number>();
  const objectSelf = new Map<Bucket, number>();
  const add = (map: Map<Bucket, number>, bucket: Bucket, weight: number) =>
    map.set(bucket, (map.get(bucket) ?? 0) + weight);
  const functionSelf = new Map<string, { name: string; file: string; bucket: Bucket; count: number }>();
  let idle = 0;
  let worker = 0;
  let object = 0;
  for (const id of samples) {
    const bucket = resolveBucket(id);
    if (bucket === null) {
      idle++;
      continue;
    }
    const side = resolveSide(id);
    if (side === "Worker") worker++;
    else if (side === "object") object++;
    const shares = selfShares(id, bucket);
    const above = new Set<Bucket>();
    for (let at = parent.get(id); at !== undefined; at = parent.get(at)) {
      const b = resolveBucket(at);
      if (b) above.add(b);
    }
    for (const [share, weight] of shares) {
      add(self, share, weight);
      if (side === "Worker") add(workerSelf, share, weight);
      else if (side === "object") add(objectSelf, share, weight);
      if (!above.has(share)) add(inclusive, share, weight);
    }
    for (const b of above) add(inclusive, b, 1);
    const node = nodes.get(id);
    if (node) {
      const name = node.callFrame.functionName || "(anonymous)";
      const file = fileOf.get(id) ?? "";
      const key = `${name} ${file}`;
      const entry = functionSelf.get(key) ?? { name, file, bucket, count: 0 };
      entry.count++;
      functionSelf.set(key, entry);
    }
  }
  const ms = (count: number) => count * tickMs;
  return {
    label,
    spanMs: (profile.endTime - profile.startTime) / 1000,
    tickMs,
    samples: samples.length,
    idleMs: ms(idle),
    busyMs: ms(samples.length - idle),
    workerMs: ms(worker),
    objectMs: ms(object),
    rows: BUCKETS.filter((bucket) => self.has(bucket) || inclusive.has(bucket)).map((bucket) => ({
      bucket,
      selfMs: ms(self.get(bucket) ?? 0),
      inclusiveMs: ms(inclusive.get(bucket) ?? 0),
      workerSelfMs: ms(workerSelf.get(bucket) ?? 0),
      objectSelfMs: ms(objectSelf.get(bucket) ?? 0),
    })),
    topFunctions: [...functionSelf.values()]
      .sort((a, b) => b.count - a.count)
      .slice(0, 15)
      .map(({ name, file, bucket, count }) => ({ name, file, bucket, selfMs: ms(count) })),
    topLines: [...lineTicks.values()]
      .sort((a, b) => b.ticks - a.ticks)
      .slice(0, 15)
      .map(({ where, bucket, ticks }) => ({
        where,
        bucket,
        // positionTicks are sample counts too.
        selfMs: ms(ticks),
      })),
  };
}

// ---- printing ------------------------------------------------------------------

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : "–");

function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((w, i) => `${"-".repeat(w + 1)}${i === 0 ? "-" : ":"}`).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

export function formatSummary(summary: ProfileSummary): string {
  const { busyMs } = summary;
  const lines = [
    `${summary.label}: ${summary.samples} samples over ${(summary.spanMs / 1000).toFixed(1)} s (one sample ≈ ${summary.tickMs.toFixed(2)} ms)`,
    `  isolate busy ${(busyMs / 1000).toFixed(2)} s (${pct(busyMs, summary.spanMs)} of the span), idle samples ${(summary.idleMs / 1000).toFixed(2)} s;` +
      ` Worker ${pct(summary.workerMs, busyMs)}, object ${pct(summary.objectMs, busyMs)}, unattributed (program, GC) ${pct(busyMs - summary.workerMs - summary.objectMs, busyMs)}`,
    "",
    formatTable(
      ["bucket", "self ms", "self % of busy", "inclusive %", "Worker self %", "object self %"],
      summary.rows.map((row) => [
        row.bucket,
        row.selfMs.toFixed(0),
        pct(row.selfMs, busyMs),
        pct(row.inclusiveMs, busyMs),
        pct(row.workerSelfMs, summary.workerMs),
        pct(row.objectSelfMs, summary.objectMs),
      ]),
    ),
    "",
    "  top functions by self time:",
    ...summary.topFunctions.map(
      (f) =>
        `    ${pct(f.selfMs, busyMs).padStart(7)}  ${f.name}  ${f.file ? `(${f.file})` : ""}  [${f.bucket}]`,
    ),
    ...(summary.topLines.length > 0
      ? [
          "  top source lines by self time (JS frames):",
          ...summary.topLines.map(
            (l) => `    ${pct(l.selfMs, busyMs).padStart(7)}  ${l.where}  [${l.bucket}]`,
          ),
        ]
      : []),
  ];
  return lines.join("\n");
}

// ---- the bundle ----------------------------------------------------------------

/** The newest `.wrangler/tmp/dev-*` directory holding `script` (wrangler rebuilds into a new one). */
function newestBundleDir(root: string, script: string): string | undefined {
  const tmp = join(root, ".wrangler/tmp");
  let best: { dir: string; mtime: number } | undefined;
  let entries: string[] = [];
  try {
    entries = readdirSync(tmp);
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!entry.startsWith("dev-")) continue;
    const dir = join(tmp, entry);
    try {
      const mtime = statSync(join(dir, `${script}.map`)).mtimeMs;
      if (!best || mtime > best.mtime) best = { dir, mtime };
    } catch {
      // No bundle of that name here.
    }
  }
  return best?.dir;
}

function scriptNameOf(profile: CpuProfile): string {
  const counts = new Map<string, number>();
  for (const node of profile.nodes) {
    const url = node.callFrame.url;
    if (url && !/^[a-z-]+:/.test(url)) counts.set(basename(url), (counts.get(basename(url)) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "worker.js";
}

/**
 * Where the bundle and its source map are: --bundle, else the copy saved next to the profile
 * (`<name>.bundle/`: wrangler deletes .wrangler/tmp when it stops), else wrangler's newest build.
 */
function bundleDirFor(
  option: string | undefined,
  profile: CpuProfile,
  profilePath?: string,
  root = process.cwd(),
): string | undefined {
  if (option) return dirname(resolve(option));
  const script = scriptNameOf(profile);
  if (profilePath) {
    const saved = `${profilePath.replace(/\.cpuprofile$/, "").replace(/\.core_[^/]*$/, "")}.bundle`;
    if (existsSync(join(saved, `${script}.map`))) return saved;
  }
  return newestBundleDir(root, script);
}

/** Copies the bundle and its map next to the profile, so `--in` can name the files later. */
function saveBundle(bundleDir: string, profile: CpuProfile, profilePath: string): void {
  const script = scriptNameOf(profile);
  const target = `${profilePath.replace(/\.cpuprofile$/, "")}.bundle`;
  mkdirSync(target, { recursive: true });
  for (const name of [script, `${script}.map`]) {
    if (existsSync(join(bundleDir, name))) copyFileSync(join(bundleDir, name), join(target, name));
  }
}

// ---- main ----------------------------------------------------------------------

function outputPath(base: string, target: string | undefined): string {
  if (!target) return base;
  const stem = base.replace(/\.cpuprofile$/, "");
  return `${stem}.${target.replace(/[^A-Za-z0-9_-]+/g, "_")}.cpuprofile`;
}

async function capture(values: {
  inspectorPort: number;
  seconds: number;
  intervalUs: number;
  out: string;
  runtimePort: number | undefined;
  noRuntime: boolean;
  bundle: string | undefined;
}): Promise<number> {
  mkdirSync(dirname(resolve(values.out)), { recursive: true });
  const targets = await listTargets(values.inspectorPort);
  const sessions: InspectorSession[] = [];
  const dev = findDevProcesses(values.inspectorPort);
  try {
    if (isRuntimeInspector(targets)) {
      console.log(
        `profile: port ${values.inspectorPort} is a workerd inspector, not wrangler's; profiling its targets except core:user:* (pass wrangler's --inspector-port for the Worker itself)`,
      );
    } else {
      for (const target of targets)
        sessions.push(await InspectorSession.open("worker", target.webSocketDebuggerUrl));
    }
    let runtimePort = values.runtimePort;
    if (isRuntimeInspector(targets)) runtimePort = values.inspectorPort;
    if (runtimePort === undefined && !values.noRuntime) {
      for (const runtime of dev.runtimes) {
        runtimePort = await findRuntimeInspectorPort(runtime);
        if (runtimePort !== undefined) break;
      }
      if (runtimePort === undefined)
        console.log("profile: runtime inspector not found; only the Worker is profiled");
    }
    if (runtimePort !== undefined && !values.noRuntime) {
      const runtimeTargets = await listTargets(runtimePort);
      for (const target of runtimeTargets) {
        // The user Worker's session belongs to wrangler's proxy; miniflare's own Workers are free.
        if (!RUNTIME_TARGET.test(target.id)) continue;
        sessions.push(await InspectorSession.open(target.id, target.webSocketDebuggerUrl));
      }
    }
    if (sessions.length === 0) throw new Error("no inspector target to profile");

    let wranglerRoot = process.cwd();
    try {
      if (dev.wrangler) wranglerRoot = readlinkSync(`/proc/${dev.wrangler.pid}/cwd`);
    } catch {
      // Not readable: the current directory then.
    }
    const meter = new CpuMeter(dev.wrangler ? [dev.wrangler.pid] : []);
    for (const session of sessions) {
      await session.send("Profiler.enable");
      await session.send("Profiler.setSamplingInterval", { interval: values.intervalUs });
    }
    meter.start();
    await Promise.all(sessions.map((session) => session.send("Profiler.start")));
    console.log(
      `profile: sampling ${sessions.map((s) => s.label).join(", ")} every ${values.intervalUs} µs for ${values.seconds} s…`,
    );
    await new Promise((done) => setTimeout(done, values.seconds * 1000));
    const stops = await Promise.all(sessions.map((session) => session.send("Profiler.stop", {}, 60_000)));
    const cpu = meter.stop();

    const summaries: ProfileSummary[] = [];
    const written: string[] = [];
    for (const [index, session] of sessions.entries()) {
      const profile = stops[index]?.result?.profile as CpuProfile | undefined;
      if (!profile) {
        console.log(`profile: ${session.label} returned no profile`);
        continue;
      }
      const path = outputPath(values.out, session.label === "worker" ? undefined : session.label);
      writeFileSync(path, JSON.stringify(profile));
      written.push(path);
      // wrangler builds under its own working directory, which need not be this one.
      const bundleDir =
        session.label === "worker"
          ? bundleDirFor(values.bundle, profile, undefined, wranglerRoot)
          : undefined;
      if (bundleDir) saveBundle(bundleDir, profile, path);
      else if (session.label === "worker") {
        console.log(
          "profile: no bundle source map found (pass --bundle); files are named by the bundle only",
        );
      }
      const files = new SourceFiles(bundleDir);
      const summary = summarise(session.label, profile, files);
      summaries.push(summary);
      console.log(`\n${formatSummary(summary)}`);
    }

    if (cpu.processes.length > 0) {
      const name = (pid: number) =>
        pid === dev.proxy?.pid
          ? "dev proxy workerd"
          : dev.runtimes.some((r) => r.pid === pid)
            ? "runtime workerd"
            : pid === dev.wrangler?.pid
              ? "wrangler (node)"
              : "";
      console.log(`\nCPU over the ${cpu.seconds.toFixed(1)} s window (/proc): ${describeCpu(cpu)}`);
      for (const p of [...cpu.processes]
        .sort((a, b) => b.seconds - a.seconds)
        .filter((p) => p.seconds >= 0.05)) {
        console.log(
          `  ${`${p.name}[${p.pid}]`.padEnd(18)} ${(p.seconds / cpu.seconds).toFixed(2)} cores  ${name(p.pid)}`,
        );
      }
      const runtimeCpu = cpu.processes
        .filter((p) => dev.runtimes.some((r) => r.pid === p.pid))
        .reduce((sum, p) => sum + p.seconds, 0);
      const seen = summaries.reduce((sum, s) => sum + s.busyMs / 1000, 0);
      if (runtimeCpu > 0) {
        console.log(
          `  runtime workerd ${runtimeCpu.toFixed(2)} CPU-s; the profiles saw ${seen.toFixed(2)} s of isolate time;` +
            ` ${Math.max(0, runtimeCpu - seen).toFixed(2)} s (${pct(Math.max(0, runtimeCpu - seen), runtimeCpu)}) ran outside every isolate (HTTP, sockets, RPC transport, event loop, kernel)`,
        );
      }
    }
    const summaryPath = values.out.replace(/\.cpuprofile$/, "").concat(".summary.json");
    writeFileSync(summaryPath, `${JSON.stringify({ summaries, cpu }, null, 2)}\n`);
    console.log(
      `\nwritten: ${[...written, summaryPath].join(", ")} (open a .cpuprofile in Chrome DevTools › Performance)`,
    );
    return 0;
  } finally {
    for (const session of sessions) session.close();
  }
}

async function main(): Promise<number> {
  const values = parseOptions({
    "inspector-port": { type: "string" },
    "runtime-inspector-port": { type: "string" },
    "no-runtime": { type: "boolean" },
    seconds: { type: "string" },
    "interval-us": { type: "string" },
    out: { type: "string" },
    in: { type: "string", multiple: true },
    bundle: { type: "string" },
  });
  if (values.in) {
    for (const path of values.in) {
      const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
      const bundleDir = bundleDirFor(values.bundle, profile, path);
      if (!bundleDir && !RUNTIME_TARGET.test(runtimeLabel(basename(path).replace(/\.cpuprofile$/, "")))) {
        console.log(`profile: no source map for ${path} (pass --bundle); files are named by the bundle only`);
      }
      const files = new SourceFiles(bundleDir);
      const label = basename(path).replace(/\.cpuprofile$/, "");
      console.log(`${formatSummary(summarise(label, profile, files))}\n`);
    }
    return 0;
  }
  if (values["inspector-port"] === undefined) throw new UsageError("--inspector-port (or --in) is required");
  const port = { min: 1, max: 65535 };
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return capture({
    inspectorPort: integerOption("inspector-port", values["inspector-port"], 9229, port),
    runtimePort:
      values["runtime-inspector-port"] === undefined
        ? undefined
        : integerOption("runtime-inspector-port", values["runtime-inspector-port"], 0, port),
    noRuntime: values["no-runtime"] ?? false,
    seconds: integerOption("seconds", values.seconds, 10, { min: 1, max: 300 }),
    intervalUs: integerOption("interval-us", values["interval-us"], 500, { min: 50, max: 100_000 }),
    out: values.out ?? `load/results/profile-${stamp}.cpuprofile`,
    bundle: values.bundle,
  });
}

runCommand("profile", USAGE, main);
