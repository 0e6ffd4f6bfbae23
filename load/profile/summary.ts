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
import type CDP from "chrome-remote-interface";
import { formatTable } from "../../tools/table.js";

/** The DevTools protocol's profile: what the inspector answers and a .cpuprofile file holds. */
export type CpuProfile = Awaited<ReturnType<CDP.Client["Profiler"]["stop"]>>["profile"];
type ProfileNode = CpuProfile["nodes"][number];

/** Where a sample's time went. The order is the order of the printed table. */
const BUCKET = {
  hono: "Hono routing, middleware, route handlers",
  validation: "zod / openapi validation",
  jwt: "JWT verification (hono/jwt, crypto.subtle)",
  json: "JSON parse / stringify, body reading",
  stub: "calls to the object (stub, RPC)",
  rules: "object: rules, ranking, state",
  sqlite: "object: SQLite (sql.exec, transactionSync)",
  flush: "object: flush to PostgreSQL (drizzle, pg)",
  usernames: "usernames: cache / directory",
  logging: "logging / analytics",
  wrangler: "wrangler dev middleware",
  frontDoor: "front door (assets routing, npm start)",
  builtins: "runtime built-ins, node compat",
  other: "other JS",
  program: "(program): runtime native with the isolate locked",
  gc: "(garbage collector)",
} as const;
type Bucket = (typeof BUCKET)[keyof typeof BUCKET];
const BUCKETS: readonly Bucket[] = Object.values(BUCKET);

/** Source files (as the source map names them) to buckets; the first match wins. */
const FILE_BUCKETS: [RegExp, Bucket][] = [
  [
    /hono\/dist\/(utils|middleware)\/jwt\/|hono\/dist\/utils\/encode\.js|^src\/http\/(auth|jwks|token-cache|token-verifier)\.ts$/,
    BUCKET.jwt,
  ],
  [
    /node_modules\/(zod|@hono\/zod-openapi|@hono\/zod-validator|@asteasolutions\/zod-to-openapi)\/|hono\/dist\/validator\/|^src\/api\/(schemas|contract|currencies)\.ts$/,
    BUCKET.validation,
  ],
  [/hono\/dist\/utils\/body\.js/, BUCKET.json],
  [
    /node_modules\/hono\/|node_modules\/@hono\/|^src\/http\/|^src\/api\/problem\.ts$|^src\/worker\.ts$|^src\/routes\//,
    BUCKET.hono,
  ],
  [/^src\/session-client\//, BUCKET.stub],
  [/^src\/objects\/(session-store|store-migrations|sql-rows|request-rows|outbox-rows)\.ts$/, BUCKET.sqlite],
  [
    /^src\/objects\/(postgres-flusher|flush-progress)\.ts$|^src\/db\/|node_modules\/(pg|pg-[a-z-]+|postgres-[a-z]+|drizzle-orm|@neondatabase\/serverless|pgpass|split2|xtend)\//,
    BUCKET.flush,
  ],
  [/^src\/observability\/|^src\/objects\/session-log\.ts$/, BUCKET.logging],
  [/^src\/objects\/|^src\/bidding\/|^src\/config\//, BUCKET.rules],
  [/node_modules\/(@upstash|uncrypto)\/|^src\/users\/|^src\/api\/username-cache-key\.ts$/, BUCKET.usernames],
  [/wrangler\/templates\/|(^|\/)bundle-[A-Za-z0-9]+\/middleware-/, BUCKET.wrangler],
  [/^src\/front-door\.ts$|^served\.ts$/, BUCKET.frontDoor],
  // The rest of src/api/, the vocabulary both sides share (times, the object's RPC shapes), with
  // the runtime's node-compat internals: their time counts where they were called from.
  [/^(node-internal|cloudflare-internal|node|internal):|^src\/api\//, BUCKET.builtins],
];

/**
 * Native calls the profiler does not show as frames of their own (the object stub's methods are
 * property interceptors, SQLite cursors run inside the caller's line …) leave their time on the
 * calling line. A JS frame's self time on a line of the bundle that makes one of these calls goes
 * to that call's bucket.
 */
const LINE_BUCKETS: [RegExp, Bucket][] = [
  [/\.(getByName|idFromName|placeBids?|myBid|standing|getSession)\(|\bsessionObject\(/, BUCKET.stub],
  [/\bsql\.exec\(|transactionSync\(/, BUCKET.sqlite],
  [/\bJSON\.(parse|stringify)\(|\.json\(\)/, BUCKET.json],
  [/crypto\.subtle\./, BUCKET.jwt],
  [/\bconsole\.(log|error|warn|info|debug)\(|\.writeDataPoint\(/, BUCKET.logging],
];

/** Native functions (no script) that name their own bucket; the rest take their caller's. */
const NATIVE_BUCKETS: [RegExp, Bucket][] = [
  [/^\(program\)$/, BUCKET.program],
  [/^\(garbage collector\)$/, BUCKET.gc],
  [/^(parse|stringify|json|text|arrayBuffer)$/, BUCKET.json],
  [/^(verify|importKey|sign|digest)$/, BUCKET.jwt],
  [/^(exec|transactionSync|transaction|toArray|one|raw)$/, BUCKET.sqlite],
  [/^(log|error|warn|info|debug|writeDataPoint)$/, BUCKET.logging],
  [
    /^(getByName|idFromName|idFromString|newUniqueId|placeBid|placeBids|myBid|standing|getSession|updateSession|initialize|leaderboard|stats|board)$/,
    BUCKET.stub,
  ],
];

/**
 * Files whose frames make a sample the object's rather than the Worker's: its parts (src/objects/)
 * and its rules (src/bidding/). The Worker's side of the calls is src/session-client/.
 */
const OBJECT_FILES = /^src\/objects\/|^src\/bidding\//;

/** `read()`, or undefined when it throws: a bundle folder may lack a file or hold a broken one. */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

const bucketOf = (rules: [RegExp, Bucket][], text: string) =>
  rules.find(([pattern]) => pattern.test(text))?.[1];

/**
 * A source map's path as the rules read it. wrangler's maps name sources relative to the build
 * directory (.wrangler/tmp/dev-…/): `../../../src/x.ts` is the project's `src/x.ts`, and
 * `../bundle-…/middleware-loader.entry.ts` is wrangler's own. The leading `../` go, so a copy of
 * the bundle saved elsewhere reads the same.
 */
function normalise(source: string): string {
  const path = source.replace(/^file:\/\//, "");
  const nodeModules = path.lastIndexOf("node_modules/");
  return nodeModules >= 0 ? path.slice(nodeModules) : path.replace(/^(\.\.?\/)+/, "");
}

/** Maps a bundle's positions to original files with its source map. */
export class SourceFiles {
  private readonly bundles = new Map<string, { lines: string[]; map: SourceMap | undefined }>();

  constructor(private readonly bundleDir: string | undefined) {}

  /** A bundled script's lines and source map, read once; none when the folder does not hold them. */
  private bundle(url: string) {
    const name = basename(url);
    let bundle = this.bundles.get(name);
    if (!bundle) {
      const dir = this.bundleDir;
      bundle = dir
        ? {
            lines: attempt(() => readFileSync(join(dir, name), "utf8").split("\n")) ?? [],
            map: attempt(() => new SourceMap(JSON.parse(readFileSync(join(dir, `${name}.map`), "utf8")))),
          }
        : { lines: [], map: undefined };
      this.bundles.set(name, bundle);
    }
    return bundle;
  }

  /** The original file and 0-based line of a 0-based position in the bundle. */
  private original(url: string, line: number, column: number) {
    const entry = this.bundle(url).map?.findEntry(line, column);
    if (!entry || !("originalSource" in entry) || !entry.originalSource) return undefined;
    return { file: normalise(entry.originalSource), line: entry.originalLine };
  }

  /** Line `line` (1-based) of the bundled script, for the line rules. */
  bundleLine(url: string, line: number): string {
    return this.bundle(url).lines[line - 1] ?? "";
  }

  /** `src/routes/bids.ts:66` for line `line` (1-based) of the bundle. */
  lineOf(url: string, line: number): string {
    const column = Math.max(0, this.bundleLine(url, line).search(/\S/));
    const original = this.original(url, line - 1, column);
    return original ? `${original.file}:${original.line + 1}` : "";
  }

  /** `src/objects/session-store.ts`, `node_modules/hono/dist/context.js`, or the url itself. */
  fileOf(frame: ProfileNode["callFrame"]): string {
    if (!frame.url || frame.lineNumber < 0) return frame.url;
    return this.original(frame.url, frame.lineNumber, Math.max(frame.columnNumber, 0))?.file ?? frame.url;
  }
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

/** What a node's samples count as: (root) and (idle) have no bucket and count as idle. */
interface NodeInfo {
  node: ProfileNode;
  file: string;
  bucket: Bucket | null;
  side: "Worker" | "object" | "runtime";
  /** The buckets of its callers, for inclusive time. */
  above: ReadonlySet<Bucket>;
  shares?: [Bucket, number][];
}

/** Every node's bucket, file and side, from the root down: a node can take its caller's bucket. */
function describeNodes(profile: CpuProfile, files: SourceFiles): Map<number, NodeInfo> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const children = new Set(profile.nodes.flatMap((node) => node.children ?? []));
  const pending: { node: ProfileNode; caller?: NodeInfo }[] = profile.nodes
    .filter((node) => !children.has(node.id))
    .map((node) => ({ node }));
  const described = new Map<number, NodeInfo>();
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { node, caller } = next;
    const { functionName, url } = node.callFrame;
    const idle = functionName === "(root)" || functionName === "(idle)";
    const file = idle ? "" : files.fileOf(node.callFrame);
    let bucket: Bucket | null = null;
    if (!idle) {
      bucket =
        url === ""
          ? (bucketOf(NATIVE_BUCKETS, functionName) ?? BUCKET.builtins)
          : (bucketOf(FILE_BUCKETS, file) ?? BUCKET.other);
      // Unnamed natives and node-compat internals count where they were called from.
      if (bucket === BUCKET.builtins) bucket = caller?.bucket ?? BUCKET.builtins;
    }
    const side =
      OBJECT_FILES.test(file) || caller?.side === "object"
        ? "object"
        : file || caller?.side === "Worker"
          ? "Worker"
          : "runtime";
    const above = new Set(caller?.above);
    if (caller?.bucket) above.add(caller.bucket);
    const info: NodeInfo = { node, file, bucket, side, above };
    described.set(node.id, info);
    for (const child of node.children ?? []) {
      const childNode = byId.get(child);
      if (childNode) pending.push({ node: childNode, caller: info });
    }
  }
  return described;
}

/** Self and inclusive time by bucket, and the Worker / object split, for one profile. */
export function summarise(label: string, profile: CpuProfile, files: SourceFiles) {
  const nodes = describeNodes(profile, files);

  // A JS frame's self time, split by the line rules over its lines' ticks.
  const lineTicks = new Map<string, { where: string; bucket: Bucket; ticks: number }>();
  const selfShares = ({ node }: NodeInfo, bucket: Bucket): [Bucket, number][] => {
    const ticks = node.positionTicks ?? [];
    if (node.callFrame.url === "" || ticks.length === 0) return [[bucket, 1]];
    const total = ticks.reduce((sum, t) => sum + t.ticks, 0);
    const byBucket = new Map<Bucket, number>();
    for (const tick of ticks) {
      let lineBucket = bucketOf(LINE_BUCKETS, files.bundleLine(node.callFrame.url, tick.line)) ?? bucket;
      // The token's own JSON stays with the JWT.
      if (bucket === BUCKET.jwt && lineBucket === BUCKET.json) lineBucket = bucket;
      byBucket.set(lineBucket, (byBucket.get(lineBucket) ?? 0) + tick.ticks / total);
      const where = files.lineOf(node.callFrame.url, tick.line) || `${node.callFrame.url}:${tick.line}`;
      const entry = lineTicks.get(where) ?? { where, bucket: lineBucket, ticks: 0 };
      entry.ticks += tick.ticks;
      lineTicks.set(where, entry);
    }
    return [...byBucket];
  };

  const samples = profile.samples ?? [];
  const tickMs = samplePeriod(profile.timeDeltas ?? []) / 1000;
  const tally = new Map<Bucket, { self: number; inclusive: number; worker: number; object: number }>();
  const tallyOf = (bucket: Bucket) => {
    const known = tally.get(bucket);
    if (known) return known;
    const fresh = { self: 0, inclusive: 0, worker: 0, object: 0 };
    tally.set(bucket, fresh);
    return fresh;
  };
  const functionSelf = new Map<string, { name: string; file: string; bucket: Bucket; count: number }>();
  let idle = 0;
  let worker = 0;
  let object = 0;
  for (const id of samples) {
    const info = nodes.get(id);
    const bucket = info?.bucket;
    if (!info || !bucket) {
      idle++;
      continue;
    }
    const { side, above } = info;
    if (side === "Worker") worker++;
    else if (side === "object") object++;
    info.shares ??= selfShares(info, bucket);
    for (const [share, weight] of info.shares) {
      const row = tallyOf(share);
      row.self += weight;
      if (side === "Worker") row.worker += weight;
      else if (side === "object") row.object += weight;
      if (!above.has(share)) row.inclusive += weight;
    }
    for (const b of above) tallyOf(b).inclusive += 1;
    const name = info.node.callFrame.functionName || "(anonymous)";
    const key = `${name} ${info.file}`;
    const entry = functionSelf.get(key) ?? { name, file: info.file, bucket, count: 0 };
    entry.count++;
    functionSelf.set(key, entry);
  }
  const ms = (count: number) => count * tickMs;
  return {
    label,
    /** Wall-clock span of the profile. */
    spanMs: (profile.endTime - profile.startTime) / 1000,
    /** One sample's worth of time (the sampling period, see samplePeriod). */
    tickMs,
    samples: samples.length,
    idleMs: ms(idle),
    /** Sampled time that is not idle: the isolate ran, JS or runtime code under its lock. */
    busyMs: ms(samples.length - idle),
    workerMs: ms(worker),
    objectMs: ms(object),
    rows: [...tally]
      .sort(([a], [b]) => BUCKETS.indexOf(a) - BUCKETS.indexOf(b))
      .map(([bucket, row]) => ({
        bucket,
        selfMs: ms(row.self),
        inclusiveMs: ms(row.inclusive),
        workerSelfMs: ms(row.worker),
        objectSelfMs: ms(row.object),
      })),
    topFunctions: [...functionSelf.values()]
      .sort((a, b) => b.count - a.count)
      .slice(0, 15)
      .map(({ name, file, bucket, count }) => ({ name, file, bucket, selfMs: ms(count) })),
    /** Source lines with the most self time (JS frames only), `src/routes/bids.ts:66`. */
    topLines: [...lineTicks.values()]
      .sort((a, b) => b.ticks - a.ticks)
      .slice(0, 15)
      // positionTicks are sample counts too.
      .map(({ where, bucket, ticks }) => ({ where, bucket, selfMs: ms(ticks) })),
  };
}

type ProfileSummary = ReturnType<typeof summarise>;

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : "–");

export function formatSummary(summary: ProfileSummary): string {
  const { busyMs } = summary;
  return [
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
    ...(summary.topLines.length > 0 ? ["  top source lines by self time (JS frames):"] : []),
    ...summary.topLines.map((l) => `    ${pct(l.selfMs, busyMs).padStart(7)}  ${l.where}  [${l.bucket}]`),
  ].join("\n");
}
