// A webhook receiver for the tests, run in Node by the globalSetup: it
// records every POST it gets, per path, and answers as the path's plan says
// (fail the first N with a status, redirect, or hang). Each test uses a path of its
// own, so tests running side by side never see each other's deliveries.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listen } from "../../tools/net.js";

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

export interface WebhookReceiver {
  /** POST {url}/any/path: recorded. `GET {url}/control/requests?path=P`, `POST {url}/control/plan?path=P` (a Plan). */
  url: string;
  close(): Promise<void>;
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

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received = new Map<string, ReceivedRequest[]>();
  const plans = new Map<string, Plan>();

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://receiver");
    const body = await readBody(request);
    const target = url.searchParams.get("path") ?? "/";
    if (url.pathname === "/control/requests" && request.method === "GET") {
      sendJson(response, 200, { requests: received.get(target) ?? [] });
      return;
    }
    if (url.pathname === "/control/plan" && request.method === "POST") {
      const plan: Partial<Plan> = JSON.parse(body || "{}");
      plans.set(target, {
        failFirst: plan.failFirst ?? 0,
        status: plan.status ?? 500,
        redirectTo: plan.redirectTo,
        hangMs: plan.hangMs,
      });
      sendJson(response, 200, { ok: true });
      return;
    }
    const list = received.get(url.pathname) ?? [];
    received.set(url.pathname, list);
    const plan = plans.get(url.pathname);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === "string") headers[name] = value;
    }
    let status = 204;
    if (plan?.redirectTo !== undefined) status = 307;
    else if (
      plan &&
      list.filter((r) => r.status >= 400 && r.headers["webhook-id"] === headers["webhook-id"]).length <
        plan.failFirst
    )
      status = plan.status;
    list.push({ at: Date.now(), headers, body, status });
    if (plan?.hangMs !== undefined) await new Promise((resolve) => setTimeout(resolve, plan.hangMs).unref());
    if (status === 307 && plan?.redirectTo !== undefined) {
      response.writeHead(307, { Location: plan.redirectTo });
      response.end();
      return;
    }
    response.writeHead(status);
    response.end();
  });

  const port = await listen(server, "127.0.0.1", 0);
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await closeServer(server);
    },
  };
}
