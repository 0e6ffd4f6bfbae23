// A small HTTP/1.1 client on node:http with a keep-alive Agent: no dependency,
// cheap per request, and the socket pool is ours to size.
import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { z } from "zod";
import { ProblemSchema } from "./api-schemas.js";

/** workerd closes idle keep-alive connections after 15 s; ours go first, so a request never races that close. */
const IDLE_SOCKET_MS = 10_000;

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface RequestOptions {
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** No response at all: the connection failed or the timeout ran out. */
export class NetworkError extends Error {
  constructor(
    readonly label: string,
    message: string,
  ) {
    super(message);
  }
}

export class HttpClient {
  private readonly agent: Agent;

  /** `maxSockets`: concurrent requests beyond it wait in the agent. */
  constructor(
    readonly baseUrl: URL,
    options: { maxSockets: number; maxFreeSockets?: number },
  ) {
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: options.maxSockets,
      maxFreeSockets: options.maxFreeSockets ?? options.maxSockets,
      timeout: IDLE_SOCKET_MS,
      scheduling: "lifo",
    });
  }

  request(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(body));
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const fail = (error: Error) => {
        clearTimeout(timer);
        const code = "code" in error && typeof error.code === "string" ? error.code : "network_error";
        reject(error instanceof NetworkError ? error : new NetworkError(code, error.message));
      };
      const req = httpRequest(
        {
          agent: this.agent,
          host: this.baseUrl.hostname.replace(/^\[(.*)\]$/, "$1"),
          port: this.baseUrl.port || 80,
          method,
          path,
          headers,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            clearTimeout(timer);
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              text: Buffer.concat(chunks).toString("utf8"),
            });
          });
          response.on("error", fail);
        },
      );
      // The clock starts when a socket is assigned: time queued behind this
      // client's own earlier requests is not the server's to answer for.
      req.once("socket", () => {
        timer = setTimeout(
          () => req.destroy(new NetworkError("timeout", `no response within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      req.on("error", fail);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** What a response was, in one short label: `201`, `422 bid_increment_too_small`, `502 HTTP`. */
export function outcomeLabel(response: HttpResponse): string {
  if (response.status < 300) return String(response.status);
  return `${response.status} ${problemCode(response) ?? "HTTP"}`;
}

export function problemCode(response: HttpResponse): string | undefined {
  return problemCodeOf(response.text);
}

/** The `code` of a problem document, if `text` is one. */
export function problemCodeOf(text: string): string | undefined {
  try {
    const parsed = ProblemSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.code : undefined;
  } catch {
    return undefined;
  }
}

/** An answer other than the one expected, or a body that does not match its schema. */
export class UnexpectedResponse extends Error {}

export function expectJson<T extends z.ZodType>(
  response: HttpResponse,
  status: number,
  schema: T,
  what: string,
): z.output<T> {
  if (response.status !== status) {
    throw new UnexpectedResponse(`${what}: HTTP ${response.status} ${response.text.slice(0, 300)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(response.text);
  } catch {
    throw new UnexpectedResponse(`${what}: the body is not JSON: ${response.text.slice(0, 200)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new UnexpectedResponse(`${what}: unexpected body: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  }
  return parsed.data;
}
