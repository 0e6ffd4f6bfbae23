// Serves the Upstash Redis REST protocol over a real Redis, for local runs.
// Protocol: https://upstash.com/docs/redis/features/restapi
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { closeServer, errorMessage, listen, redactUrl } from "./net.js";

type Json = null | number | string | Json[];
type Outcome = { result: Json } | { error: string };
type Command = [string, ...string[]];

export interface UpstashAdapterOptions {
  redisUrl: string;
  token: string;
  host?: string;
  /** 0 = a free port */
  port?: number;
}

export interface UpstashAdapter {
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startUpstashAdapter(opts: UpstashAdapterOptions): Promise<UpstashAdapter> {
  // RESP2 replies are what Upstash returns; enableOfflineQueue=false makes a
  // request fail at once while Redis is down instead of hanging.
  const redis = new Redis(opts.redisUrl, {
    protocol: 2,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  let lastConnectionError = "";
  redis.on("error", (error: unknown) => {
    lastConnectionError = errorMessage(error);
  });
  redis.on("ready", () => {
    lastConnectionError = "";
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(
      `cannot reach Redis at ${redactUrl(opts.redisUrl)}: ${lastConnectionError || errorMessage(error)}`,
    );
  }

  const expectedToken = Buffer.from(opts.token);
  const isAuthorized = (request: IncomingMessage, url: URL): boolean => {
    const header = request.headers.authorization ?? "";
    const given = Buffer.from(
      header.startsWith("Bearer ") ? header.slice(7) : (url.searchParams.get("_token") ?? ""),
    );
    return given.length === expectedToken.length && timingSafeEqual(given, expectedToken);
  };

  const unavailable = (error: unknown): HttpError =>
    new HttpError(503, `Redis unavailable: ${lastConnectionError || errorMessage(error)}`);

  const runOne = async (command: Command, base64: boolean): Promise<Json> => {
    try {
      return toJson(await redis.callBuffer(...upper(command)), base64, true);
    } catch (error) {
      if (isReplyError(error)) throw new HttpError(400, error.message);
      throw unavailable(error);
    }
  };

  const runBatch = async (commands: Command[], transaction: boolean, base64: boolean): Promise<Outcome[]> => {
    const batch = transaction ? redis.multi() : redis.pipeline();
    for (const command of commands) batch.callBuffer(...upper(command));
    let replies: [error: Error | null, result: unknown][] | null;
    try {
      replies = await batch.exec();
    } catch (error) {
      // EXECABORT: a command was rejected while queuing, nothing ran.
      if (isReplyError(error)) throw new HttpError(400, error.message);
      throw unavailable(error);
    }
    if (replies === null) throw new HttpError(400, "ERR transaction aborted");
    return replies.map(([error, result]) => {
      if (error === null) return { result: toJson(result, base64, true) };
      if (isReplyError(error)) return { error: error.message };
      throw unavailable(error);
    });
  };

  const handle = async (request: IncomingMessage): Promise<[number, unknown]> => {
    const url = new URL(request.url ?? "/", "http://adapter");
    if (!isAuthorized(request, url)) return [401, { error: "Unauthorized" }];
    if (!["GET", "HEAD", "POST", "PUT"].includes(request.method ?? "")) {
      return [405, { error: "Method Not Allowed" }];
    }
    const base64 = request.headers["upstash-encoding"] === "base64";
    const body = await readBody(request);

    if (url.pathname === "/") return [200, { result: await runOne(parseCommand(parseJson(body)), base64) }];
    if (url.pathname === "/pipeline" || url.pathname === "/multi-exec") {
      const commands = parseJson(body);
      if (!Array.isArray(commands) || commands.length === 0) {
        throw new HttpError(400, "ERR expected a non-empty array of commands");
      }
      return [200, await runBatch(commands.map(parseCommand), url.pathname === "/multi-exec", base64)];
    }
    return [200, { result: await runOne(pathCommand(url, body), base64) }];
  };

  const server = createServer((request, response) => {
    handle(request).then(
      ([status, payload]) => send(response, status, payload),
      (error: unknown) => {
        if (error instanceof HttpError) send(response, error.status, { error: error.message });
        else send(response, 500, { error: errorMessage(error) });
      },
    );
  });
  const host = opts.host ?? "127.0.0.1";
  let port: number;
  try {
    port = await listen(server, host, opts.port ?? 0);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return {
    url: `http://${host}:${port}`,
    async close() {
      server.closeAllConnections();
      await closeServer(server);
      redis.disconnect();
    },
  };
}

// Upper-case names never match ioredis' reply transformers (keyed by lower-case
// name, e.g. HGETALL -> object), so replies stay raw as Upstash sends them.
function upper([name, ...args]: Command): Command {
  return [name.toUpperCase(), ...args];
}

function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "ReplyError";
}

/**
 * With `Upstash-Encoding: base64` every string in the reply is base64, except a
 * top-level "OK" (the docs' rule; @upstash/redis decodes a bare "OK" as "OK" and
 * every other string with atob, so PONG or QUEUED must be encoded too).
 */
function toJson(reply: unknown, base64: boolean, topLevel: boolean): Json {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "number") return reply;
  if (Array.isArray(reply)) return reply.map((item: unknown) => toJson(item, base64, false));
  const bytes = Buffer.isBuffer(reply) ? reply : Buffer.from(String(reply));
  const text = bytes.toString("utf8");
  if (!base64 || (topLevel && text === "OK")) return text;
  return bytes.toString("base64");
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new HttpError(400, "ERR failed to parse request body as JSON");
  }
}

function parseCommand(value: unknown): Command {
  if (!Array.isArray(value)) throw new HttpError(400, "ERR a command must be a JSON array");
  const parts = value.map((part: unknown) => {
    if (typeof part === "string") return part;
    if (typeof part === "number" || typeof part === "boolean") return String(part);
    throw new HttpError(400, "ERR command arguments must be strings or numbers");
  });
  const [name, ...args] = parts;
  if (name === undefined || name === "") throw new HttpError(400, "ERR empty command");
  return [name, ...args];
}

/** `/set/foo/bar?EX=100` -> SET foo bar EX 100; a POST body is appended as the value. */
function pathCommand(url: URL, body: string): Command {
  const parts = url.pathname
    .split("/")
    .filter((part) => part !== "")
    .map(decodeURIComponent);
  if (body !== "") parts.push(body);
  for (const [key, value] of url.searchParams) {
    if (key !== "_token") parts.push(key, value);
  }
  return parseCommand(parts);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

function send(response: ServerResponse, status: number, payload: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(payload));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const usage =
    "usage: tsx tools/upstash-adapter.ts --redis redis://127.0.0.1:6379 --port 8079 --token dev-token [--host 127.0.0.1]";
  let values: { redis?: string; port?: string; token?: string; host?: string };
  try {
    ({ values } = parseArgs({
      options: {
        redis: { type: "string" },
        port: { type: "string" },
        token: { type: "string" },
        host: { type: "string" },
      },
    }));
  } catch (error) {
    console.error(`${errorMessage(error)}\n${usage}`);
    process.exit(2);
  }
  const port = Number(values.port ?? "8079");
  if (values.token === undefined || values.token === "" || !Number.isInteger(port)) {
    console.error(usage);
    process.exit(2);
  }
  try {
    const adapter = await startUpstashAdapter({
      redisUrl: values.redis ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
      token: values.token,
      host: values.host,
      port,
    });
    console.log(`Upstash REST adapter on ${adapter.url} (token ${values.token})`);
    const stop = () => void adapter.close().then(() => process.exit(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  } catch (error) {
    console.error(`upstash-adapter: ${errorMessage(error)}`);
    process.exit(1);
  }
}
