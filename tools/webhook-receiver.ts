// The one webhook receiver, for the tests (in the globalSetup's process) and
// the reference benchmark (a process of its own, so its CPU is measured apart
// and it never delays the load's event loop). A bare node:http server on
// 127.0.0.1; every POST to a path is answered as that path's plan says (204
// by default) and either
//   recorded, for GET /control/requests?path=P (the tests' paths), or
//   counted, once POST /control/watch?path=P made it a benchmark's path:
//   each delivery's signature checked with the secret POST /control/secret
//   gives (deliveries wait for it), ids, duplicates, and each event's lag,
//   for GET /control/figures?path=P&session=S.
//   POST /control/plan?path=P  {failFirst, status, redirectTo, hangMs}
// As a script (startReceiverProcess) it prints its URL and exits when its
// standard input closes, so it never outlives the benchmark.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { closeServer, listen } from "./net.js";
import { exited, waitForExit } from "./process-group.js";
import { hasValidSignature } from "./webhook-signature.js";

export interface ReceivedRequest {
  at: number;
  headers: Record<string, string>;
  body: string;
  /** What the receiver answered. */
  status: number;
}

interface Plan {
  /** Fail the first this many attempts of each event (by webhook-id) with `status`, then answer 204. */
  failFirst: number;
  status: number;
  /** Answer 307 to this Location instead. */
  redirectTo?: string;
  /** Hold every request this long before answering (longer than the delivery timeout: no answer). */
  hangMs?: number;
}

interface Counted {
  secret: Promise<string>;
  setSecret: (secret: string) => void;
  deliveries: number;
  ids: Set<string>;
  badSignatures: number;
  malformed: number;
  byType: Map<string, number>;
  /** Per session: the lag of each id's first arrival. */
  lagsBySession: Map<string, number[]>;
}

export const ReceiverFiguresSchema = z.object({
  /** POSTs to the path. */
  deliveries: z.number(),
  /** Distinct `webhook-id`s among them. */
  distinctIds: z.number(),
  /** Deliveries of an id already received (a retry or a resend). */
  duplicates: z.number(),
  /** Deliveries whose signature does not verify with the secret (or that carry none). */
  badSignatures: z.number(),
  /** Bodies that are not a Standard Webhooks event (JSON with type, timestamp, data.sessionId). */
  malformed: z.number(),
  /** Distinct ids by event type. */
  byType: z.record(z.string(), z.number()),
  /** Distinct ids of events of the session asked about. */
  sessionIds: z.number(),
  /** Distinct ids of events of other sessions (the queue's backlog from earlier measurements). */
  otherSessionIds: z.number(),
  /** The session's events: first arrival of each id minus the event's `timestamp` (when the object wrote it), ms. */
  lagsMs: z.array(z.number()),
  /** POSTs to paths no benchmark counts (the whole receiver). */
  stray: z.number(),
});
export type ReceiverFigures = z.infer<typeof ReceiverFiguresSchema>;

/** A Standard Webhooks body as the service sends it (src/webhooks/delivery.ts). */
const EventBodySchema = z.object({
  type: z.string(),
  timestamp: z.iso.datetime(),
  data: z.object({ sessionId: z.string() }),
});

function eventOf(body: string): z.infer<typeof EventBodySchema> | undefined {
  try {
    return EventBodySchema.safeParse(JSON.parse(body)).data;
  } catch {
    return undefined;
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

function newCounted(): Counted {
  let setSecret: (secret: string) => void = () => {};
  const secret = new Promise<string>((resolve) => {
    setSecret = resolve;
  });
  return {
    secret,
    setSecret,
    deliveries: 0,
    ids: new Set(),
    badSignatures: 0,
    malformed: 0,
    byType: new Map(),
    lagsBySession: new Map(),
  };
}

async function count(target: Counted, headers: Record<string, string>, body: string, at: number) {
  target.deliveries += 1;
  // Only a signed delivery counts as an event received: bad signatures are reported on their own.
  if (!(await hasValidSignature(await target.secret, { headers, body }))) {
    target.badSignatures += 1;
    return;
  }
  const id = headers["webhook-id"];
  if (id === undefined || target.ids.has(id)) return;
  target.ids.add(id);
  const event = eventOf(body);
  if (!event) {
    target.malformed += 1;
    return;
  }
  target.byType.set(event.type, (target.byType.get(event.type) ?? 0) + 1);
  const lags = target.lagsBySession.get(event.data.sessionId) ?? [];
  target.lagsBySession.set(event.data.sessionId, lags);
  lags.push(at - Date.parse(event.timestamp));
}

function figuresOf(target: Counted, sessionId: string, stray: number): ReceiverFigures {
  let otherSessionIds = 0;
  for (const [session, lags] of target.lagsBySession)
    if (session !== sessionId) otherSessionIds += lags.length;
  const lagsMs = target.lagsBySession.get(sessionId) ?? [];
  return {
    deliveries: target.deliveries,
    distinctIds: target.ids.size,
    // A delivery without a valid signature (hence without a checked webhook-id) is no duplicate.
    duplicates: target.deliveries - target.badSignatures - target.ids.size,
    badSignatures: target.badSignatures,
    malformed: target.malformed,
    byType: Object.fromEntries(target.byType),
    sessionIds: lagsMs.length,
    otherSessionIds,
    lagsMs,
    stray,
  };
}

export interface WebhookReceiver {
  /** http://127.0.0.1:PORT: POST {url}/any/path is received; {url}/control/… as above. */
  url: string;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const recorded = new Map<string, ReceivedRequest[]>();
  const counted = new Map<string, Counted>();
  const plans = new Map<string, Plan>();
  let stray = 0;

  const control = (method: string, url: URL, body: string): [number, unknown] => {
    const path = url.searchParams.get("path") ?? "/";
    const target = counted.get(path);
    switch (`${method} ${url.pathname}`) {
      case "GET /control/requests":
        return [200, { requests: recorded.get(path) ?? [] }];
      case "POST /control/plan": {
        const plan: Partial<Plan> = JSON.parse(body || "{}");
        plans.set(path, {
          failFirst: plan.failFirst ?? 0,
          status: plan.status ?? 500,
          redirectTo: plan.redirectTo,
          hangMs: plan.hangMs,
        });
        return [200, { ok: true }];
      }
      case "POST /control/watch":
        if (!target) counted.set(path, newCounted());
        return [200, { ok: true }];
      case "POST /control/secret":
        target?.setSecret(body);
        return target ? [200, { ok: true }] : [404, { error: `${path} is not watched` }];
      case "GET /control/figures":
        return target
          ? [200, figuresOf(target, url.searchParams.get("session") ?? "", stray)]
          : [404, { error: `${path} is not watched` }];
      default:
        return [404, { error: "unknown control route" }];
    }
  };

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://receiver");
    const body = await readBody(request);
    const arrivedAt = Date.now();
    if (url.pathname.startsWith("/control/")) {
      const [status, answer] = control(request.method ?? "", url, body);
      sendJson(response, status, answer);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === "string") headers[name] = value;
    }
    const target = counted.get(url.pathname);
    if (target) {
      count(target, headers, body, arrivedAt).then(
        () => response.writeHead(204).end(),
        () => response.writeHead(500).end(),
      );
      return;
    }
    stray += 1;
    const list = recorded.get(url.pathname) ?? [];
    recorded.set(url.pathname, list);
    const plan = plans.get(url.pathname);
    let status = 204;
    if (plan?.redirectTo !== undefined) status = 307;
    else if (
      plan &&
      list.filter((r) => r.status >= 400 && r.headers["webhook-id"] === headers["webhook-id"]).length <
        plan.failFirst
    )
      status = plan.status;
    list.push({ at: arrivedAt, headers, body, status });
    if (plan?.hangMs !== undefined) await new Promise((resolve) => setTimeout(resolve, plan.hangMs).unref());
    response.writeHead(status, status === 307 && plan?.redirectTo ? { Location: plan.redirectTo } : {});
    response.end();
  });
  server.keepAliveTimeout = 30_000;

  const port = await listen(server, "127.0.0.1", 0);
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await closeServer(server);
    },
  };
}

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/** The receiver as a process of its own: its pid (for its CPU figures), its control calls, and its end. */
export class ReceiverProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<ReceiverProcess> {
    // Under tsx the child needs the same loader as this process.
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let timer: NodeJS.Timeout | undefined;
    const url = await new Promise<string>((resolve, reject) => {
      timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`the webhook receiver did not listen within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      if (child.stdout) createInterface({ input: child.stdout }).once("line", resolve);
      child.once("exit", (code, signal) =>
        reject(new Error(`the webhook receiver exited (${signal ?? code})`)),
      );
      child.once("error", reject);
    }).finally(() => {
      clearTimeout(timer);
      child.removeAllListeners("exit");
    });
    return new ReceiverProcess(child, url);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Counts what `path` receives from now on; deliveries wait for setSecret. */
  async watch(path: string): Promise<void> {
    await this.control("POST", "watch", { path });
  }

  async setSecret(path: string, secret: string): Promise<void> {
    await this.control("POST", "secret", { path }, secret);
  }

  async figures(path: string, sessionId: string): Promise<ReceiverFigures> {
    return ReceiverFiguresSchema.parse(await this.control("GET", "figures", { path, session: sessionId }));
  }

  async stop(): Promise<void> {
    this.child.stdin?.end();
    if (!(await waitForExit(this.child, STOP_TIMEOUT_MS))) this.child.kill("SIGKILL");
  }

  /** For the process' exit handler. */
  stopNow(): void {
    if (!exited(this.child)) this.child.kill("SIGKILL");
  }

  private async control(
    method: string,
    route: string,
    query: Record<string, string>,
    body?: string,
  ): Promise<unknown> {
    const response = await fetch(`${this.url}/control/${route}?${new URLSearchParams(query)}`, {
      method,
      body,
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) throw new Error(`webhook receiver: ${route} answered ${response.status}`);
    return response.json();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const receiver = await startWebhookReceiver();
  console.log(receiver.url);
  // The benchmark gone (even SIGKILLed) closes this pipe: nothing left to receive for.
  process.stdin.on("end", () => process.exit(0)).resume();
}
