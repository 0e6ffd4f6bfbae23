// The benchmark's webhook receiver, a process of its own (started by
// webhook-receiver.ts), so its CPU is measured apart from the load generator's
// and it never delays the load's event loop. A bare node:http server on
// 127.0.0.1: every POST to a watched path is read, its signature checked with
// the tests' verifier (test/support/webhook-signature.ts), counted, and
// answered 204; the counts go to the parent over IPC when it asks.
import { createServer, type IncomingMessage } from "node:http";
import { z } from "zod";
import { hasValidSignature } from "../test/support/webhook-signature.js";
import { summarize } from "./percentiles.js";
import {
  type FromReceiver,
  type ReceiverFigures,
  type ToReceiver,
  ToReceiverSchema,
} from "./webhook-receiver-protocol.js";

interface Watched {
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

const watched = new Map<string, Watched>();
let stray = 0;

function watch(path: string): void {
  if (watched.has(path)) return;
  let setSecret: (secret: string) => void = () => {};
  const secret = new Promise<string>((resolve) => {
    setSecret = resolve;
  });
  watched.set(path, {
    secret,
    setSecret,
    deliveries: 0,
    ids: new Set(),
    badSignatures: 0,
    malformed: 0,
    byType: new Map(),
    lagsBySession: new Map(),
  });
}

/** A Standard Webhooks body as the service sends it (src/webhooks/delivery.ts). */
const EventBodySchema = z.object({
  type: z.string(),
  timestamp: z.iso.datetime(),
  data: z.object({ sessionId: z.string() }),
});

function eventOf(body: string): { type: string; at: number; sessionId: string } | undefined {
  try {
    const event = EventBodySchema.safeParse(JSON.parse(body)).data;
    return event && { type: event.type, at: Date.parse(event.timestamp), sessionId: event.data.sessionId };
  } catch {
    return undefined;
  }
}

async function receive(target: Watched, request: IncomingMessage, body: string, arrivedAt: number) {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === "string") headers[name] = value;
  }
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
  const lags = target.lagsBySession.get(event.sessionId) ?? [];
  target.lagsBySession.set(event.sessionId, lags);
  lags.push(arrivedAt - event.at);
}

function figures(path: string, sessionId: string): ReceiverFigures {
  const target = watched.get(path);
  if (!target) throw new Error(`${path} is not watched`);
  const lags = target.lagsBySession.get(sessionId) ?? [];
  let otherSessionIds = 0;
  for (const [session, list] of target.lagsBySession)
    if (session !== sessionId) otherSessionIds += list.length;
  return {
    deliveries: target.deliveries,
    distinctIds: target.ids.size,
    // A delivery without a valid signature (hence without a checked webhook-id) is no duplicate.
    duplicates: target.deliveries - target.badSignatures - target.ids.size,
    badSignatures: target.badSignatures,
    malformed: target.malformed,
    byType: Object.fromEntries(target.byType),
    sessionIds: lags.length,
    otherSessionIds,
    lagMs: summarize(lags),
    stray,
  };
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const arrivedAt = Date.now();
    const target = watched.get(request.url ?? "");
    if (request.method !== "POST" || !target) {
      stray += 1;
      response.writeHead(404).end();
      return;
    }
    receive(target, request, Buffer.concat(chunks).toString("utf8"), arrivedAt).then(
      () => response.writeHead(204).end(),
      () => response.writeHead(500).end(),
    );
  });
});

const send = (message: FromReceiver) => process.send?.(message);

process.on("message", (raw: unknown) => {
  const parsed = ToReceiverSchema.safeParse(raw);
  if (!parsed.success) return;
  const message: ToReceiver = parsed.data;
  try {
    switch (message.type) {
      case "watch":
        watch(message.path);
        send({ type: "done", id: message.id });
        break;
      case "secret": {
        const target = watched.get(message.path);
        if (!target) throw new Error(`${message.path} is not watched`);
        target.setSecret(message.secret);
        send({ type: "done", id: message.id });
        break;
      }
      case "figures":
        send({ type: "figures", id: message.id, figures: figures(message.path, message.sessionId) });
        break;
    }
  } catch (error) {
    send({ type: "failed", id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
// The benchmark gone (even SIGKILLed): nothing left to receive for.
process.on("disconnect", () => process.exit(0));

server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (typeof address === "object" && address !== null) send({ type: "listening", port: address.port });
});
