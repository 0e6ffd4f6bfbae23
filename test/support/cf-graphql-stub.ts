// A stand-in for Cloudflare's GraphQL Analytics API
// (https://api.cloudflare.com/client/v4/graphql), which cannot be reached from
// here. Run in Node by the globalSetup; the Worker reaches it through the
// CF_API_BASE_URL var. It answers POST /client/v4/graphql in the shape
// Cloudflare documents for hyperdrivePoolSizesAdaptiveGroups and
// hyperdriveQueriesAdaptiveGroups ({"data": {"viewer": {"accounts": [...]}},
// "errors": null}), checks the Bearer token like the real API (401 otherwise),
// and serves what a test registered for its own configId, so tests never
// share state. A small control API registers answers and counts the calls.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listen } from "../../tools/net.js";

/** What the stub answers for one configId (registered by a test). */
export interface StubAnswer {
  /** Rows of hyperdrivePoolSizesAdaptiveGroups, as Cloudflare sends them. */
  pools?: unknown[];
  /** Rows of hyperdriveQueriesAdaptiveGroups. */
  queries?: unknown[];
  /** GraphQL errors in a 200, as the API reports a query it refuses. */
  errors?: { message: string }[];
  /** Sent verbatim instead of the documented shape (a malformed answer). */
  rawBody?: string;
  /** Wait this long before answering (a slow API). */
  delayMs?: number;
}

export interface StubCalls {
  calls: number;
  lastVariables: Record<string, unknown> | null;
}

export interface CfGraphqlStub {
  /** The API base URL to put in CF_API_BASE_URL, e.g. http://127.0.0.1:PORT/client/v4 */
  apiBaseUrl: string;
  /** The only token the stub accepts. */
  token: string;
  /** Base URL of the control API: PUT /answers/{configId}, GET /calls/{configId} */
  controlUrl: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

export async function startCfGraphqlStub(options: { token: string }): Promise<CfGraphqlStub> {
  const answers = new Map<string, StubAnswer>();
  const calls = new Map<string, StubCalls>();
  const pending = new Set<NodeJS.Timeout>();

  async function graphql(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      // The REST envelope Cloudflare's API gateway answers a bad token with.
      sendJson(res, 401, {
        success: false,
        errors: [{ code: 10000, message: "Authentication error" }],
        messages: [],
        result: null,
      });
      return;
    }
    let request: { query?: unknown; variables?: Record<string, unknown> };
    try {
      request = JSON.parse(body);
    } catch {
      sendJson(res, 400, { data: null, errors: [{ message: "failed to parse request body" }] });
      return;
    }
    const variables = request.variables ?? {};
    const query = typeof request.query === "string" ? request.query : "";
    const configId = String(variables.configId ?? "");
    const record = calls.get(configId) ?? { calls: 0, lastVariables: null };
    calls.set(configId, { calls: record.calls + 1, lastVariables: variables });
    if (
      !query.includes("hyperdrivePoolSizesAdaptiveGroups") ||
      !query.includes("hyperdriveQueriesAdaptiveGroups") ||
      typeof variables.accountTag !== "string" ||
      typeof variables.datetimeStart !== "string" ||
      typeof variables.datetimeEnd !== "string"
    ) {
      sendJson(res, 200, {
        data: null,
        errors: [{ message: "error parsing args: stub expects the documented query" }],
      });
      return;
    }
    const answer = answers.get(configId) ?? {};
    if (answer.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(timer);
          resolve();
        }, answer.delayMs);
        pending.add(timer);
        req.socket.once("close", () => {
          clearTimeout(timer);
          pending.delete(timer);
          resolve();
        });
      });
      if (res.destroyed) return;
    }
    if (answer.rawBody !== undefined) {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(answer.rawBody);
      return;
    }
    if (answer.errors) {
      sendJson(res, 200, { data: null, errors: answer.errors });
      return;
    }
    sendJson(res, 200, {
      data: {
        viewer: {
          accounts: [
            {
              hyperdrivePoolSizesAdaptiveGroups: answer.pools ?? [],
              hyperdriveQueriesAdaptiveGroups: answer.queries ?? [],
            },
          ],
        },
      },
      errors: null,
    });
  }

  async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const [, kind, configId = ""] = path.split("/");
    if (kind === "answers" && req.method === "PUT") {
      answers.set(decodeURIComponent(configId), JSON.parse(await readBody(req)) as StubAnswer);
      sendJson(res, 200, { ok: true });
    } else if (kind === "calls" && req.method === "GET") {
      sendJson(res, 200, calls.get(decodeURIComponent(configId)) ?? { calls: 0, lastVariables: null });
    } else {
      sendJson(res, 404, { error: `no control route ${req.method} ${path}` });
    }
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://stub").pathname;
    const handle =
      req.method === "POST" && path === "/client/v4/graphql"
        ? graphql(req, res)
        : path.startsWith("/control/")
          ? control(req, res, path.slice("/control".length))
          : Promise.resolve(sendJson(res, 404, { error: `no route ${req.method} ${path}` }));
    handle.catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(error) });
    });
  });
  const port = await listen(server, "127.0.0.1", 0);
  return {
    apiBaseUrl: `http://127.0.0.1:${port}/client/v4`,
    token: options.token,
    controlUrl: `http://127.0.0.1:${port}/control`,
    async close() {
      for (const timer of pending) clearTimeout(timer);
      server.closeAllConnections();
      await closeServer(server);
    },
  };
}
