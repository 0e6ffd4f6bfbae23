// Where a V8 CPU profile of the Worker's isolate spent its time: each sample
// in a bucket (Hono, validation, JWT, JSON, calls to the object, the object's
// rules, SQLite, the flush, logging …), split into the Worker's side and the
// object's, with the bundle's source map naming the files.
//  - The V8 profiler only samples while an isolate is running. Time the runtime spends outside
//    every isolate (HTTP, sockets, RPC transport, SQLite commits, the event loop, the kernel) is
//    the process CPU from /proc minus what the profile saw.
//  - Native calls the profiler shows as no frame of their own (an object stub's methods, SQLite
//    cursors, functions V8 inlined) leave their time on the calling line: see LINE_BUCKETS, and the
//    "top source lines" list, where a function's first line stands for its inlined callees.
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { basename, join } from "node:path";
import { formatTable } from "../../tools/table.js";

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
  "front door (assets routing, npm start)",
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
    /node_modules\/(zod|@hono\/zod-openapi|@hono\/zod-validator|@asteasolutions\/zod-to-openapi)\/|hono\/dist\/validator\/|^src\/api\/(schemas|contract|currencies)\.ts$/,
    BUCKETS[1],
  ],
  [/hono\/dist\/utils\/body\.js/, BUCKETS[3]],
  [
    /node_modules\/hono\/|node_modules\/@hono\/|^src\/http\/|^src\/api\/problem\.ts$|^src\/worker\.ts$|^src\/routes\//,
    BUCKETS[0],
  ],
  [/^src\/session-client\//, BUCKETS[4]],
  [/^src\/objects\/(session-store|store-migrations|sql-rows|request-rows|outbox-rows)\.ts$/, BUCKETS[6]],
  [/^src\/objects\/(postgres-flusher|flush-progress)\.ts$|^src\/db\//, BUCKETS[7]],
  [/^src\/observability\/|^src\/objects\/session-log\.ts$/, BUCKETS[9]],
  [/^src\/objects\/|^src\/bidding\/|^src\/config\//, BUCKETS[5]],
  [
    /node_modules\/(pg|pg-[a-z-]+|postgres-[a-z]+|drizzle-orm|@neondatabase\/serverless|pgpass|split2|xtend)\//,
    BUCKETS[7],
  ],
  [/node_modules\/(@upstash|uncrypto)\/|^src\/users\/|^src\/api\/username-cache-key\.ts$/, BUCKETS[8]],
  [/wrangler\/templates\/|(^|\/)bundle-[A-Za-z0-9]+\/middleware-/, BUCKETS[10]],
  [/^src\/front-door\.ts$|^served\.ts$/, BUCKETS[11]],
  // The rest of src/api/, the vocabulary both sides share (times, the object's RPC shapes), with
  // the runtime's node-compat internals: their time counts where they were called from.
  [/^(node-internal|cloudflare-internal|node|internal):|^src\/api\//, BUCKETS[12]],
];

/**
 * Native calls the profiler does not show as frames of their own (the object stub's methods are
 * property interceptors, SQLite cursors run inside the caller's line …) leave their time on the
 * calling line. A JS frame's self time on a line of the bundle that makes one of these calls goes
 * to that call's bucket.
 */
const LINE_BUCKETS: [RegExp, Bucket][] = [
  [/\.(getByName|idFromName|placeBids?|myBid|standing|getSession)\(|\bsessionObject\(/, BUCKETS[4]],
  [/\bsql\.exec\(|transactionSync\(/, BUCKETS[6]],
  [/\bJSON\.(parse|stringify)\(|\.json\(\)/, BUCKETS[3]],
  [/crypto\.subtle\./, BUCKETS[2]],
  [/\bconsole\.(log|error|warn|info|debug)\(|\.writeDataPoint\(/, BUCKETS[9]],
];

/**
 * Files whose frames make a sample the object's rather than the Worker's: its parts (src/objects/)
 * and its rules (src/bidding/). The Worker's side of the calls is src/session-client/.
 */
const OBJECT_FILES = /^src\/objects\/|^src\/bidding\//;

/** Native functions (no script) that name their own bucket; the rest take their caller's. */
const NATIVE_BUCKETS: [RegExp, Bucket][] = [
  [/^(parse|stringify|json|text|arrayBuffer)$/, BUCKETS[3]],
  [/^(verify|importKey|sign|digest)$/, BUCKETS[2]],
  [/^(exec|transactionSync|transaction|toArray|one|raw)$/, BUCKETS[6]],
  [/^(log|error|warn|info|debug|writeDataPoint)$/, BUCKETS[9]],
  [
    /^(getByName|idFromName|idFromString|newUniqueId|placeBid|placeBids|myBid|standing|getSession|updateSession|initialize|leaderboard|stats|board)$/,
    BUCKETS[4],
  ],
];

type Side = "Worker" | "object" | "runtime";

/** Maps a bundle's positions to original files with its source map. */
export class SourceFiles {
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
    if (node && node.callFrame.url !== "" && ticks.length > 0) {
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

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : "–");

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
