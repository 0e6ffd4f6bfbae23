// The load scripts' one HTTP/1.1 client, lean enough for hot loops: each
// keep-alive TCP socket carries one request at a time, written as one
// pre-built string, and each answer is read only as far as its status, head
// and body (Content-Length or chunked). No agent, no header objects, no
// streams: a load generator that stays cheap next to the servers it
// measures on the same cores. HttpClient pools these connections for JSON
// calls; the closed loops and bursts drive RawConnections themselves.
import { connect, type Socket } from "node:net";
import type { z } from "zod";
import { ProblemSchema } from "../../src/api/contract.js";

export interface RawAnswer {
  status: number;
  /** The status line and headers, as sent. */
  head: string;
  body: string;
}

/** `POST /path HTTP/1.1` with the given headers and body, ready to write. */
export function buildRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): string {
  const lines = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join("\r\n")}\r\n\r\n${body ?? ""}`;
}

/** The value of header `name` (lower-case) in an answer's head. */
export function headerOf(answer: RawAnswer, name: string): string | undefined {
  for (const line of answer.head.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}

const HEADER_END = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");

interface Parsed {
  answer: RawAnswer;
  /** Bytes the answer took from the buffer. */
  length: number;
  close: boolean;
}

/** Decodes a chunked body starting at `start`; undefined while incomplete. */
function chunkedBody(buffer: Buffer, start: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf(CRLF, at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(buffer.toString("latin1", at, lineEnd), 16);
    if (!Number.isFinite(size)) throw new Error("malformed chunk size");
    const dataStart = lineEnd + 2;
    if (size === 0) {
      // No trailers expected: the last chunk is followed by an empty line.
      if (buffer.length < dataStart + 2) return undefined;
      return { body: Buffer.concat(parts), end: dataStart + 2 };
    }
    if (buffer.length < dataStart + size + 2) return undefined;
    parts.push(buffer.subarray(dataStart, dataStart + size));
    at = dataStart + size + 2;
  }
}

/** One complete answer at the start of `buffer`, or undefined while more bytes are needed. */
function parseAnswer(buffer: Buffer): Parsed | undefined {
  const headerEnd = buffer.indexOf(HEADER_END);
  if (headerEnd < 0) return undefined;
  const head = buffer.toString("latin1", 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const close = /\r\nconnection: *close/i.test(head);
  const bodyStart = headerEnd + 4;
  const lengthMatch = head.match(/\r\ncontent-length: *([0-9]+)/i);
  if (lengthMatch?.[1] !== undefined) {
    const end = bodyStart + Number(lengthMatch[1]);
    if (buffer.length < end) return undefined;
    return { answer: { status, head, body: buffer.toString("utf8", bodyStart, end) }, length: end, close };
  }
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    const chunked = chunkedBody(buffer, bodyStart);
    if (!chunked) return undefined;
    return { answer: { status, head, body: chunked.body.toString("utf8") }, length: chunked.end, close };
  }
  // 1xx, 204, 304, or a body up to the close we do not wait for: no body.
  return { answer: { status, head, body: "" }, length: bodyStart, close: true };
}

interface Waiting {
  socket: Socket;
  resolve: (answer: RawAnswer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class RawConnection {
  private readonly host: string;
  private readonly port: number;
  private socket: Socket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: Waiting | undefined;
  private lastAnswerAt = 0;

  constructor(url: URL) {
    this.host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    this.port = Number(url.port || 80);
  }

  /** False before the first connect and after the server (or an error) closed the socket. */
  get open(): boolean {
    return this.socket !== undefined;
  }

  /** Since the last answer (or ever, before the first). */
  get idleMs(): number {
    return performance.now() - this.lastAnswerAt;
  }

  connect(timeoutMs = 10_000): Promise<void> {
    if (this.socket) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port, noDelay: true });
      const timer = setTimeout(() => socket.destroy(new Error("connect timeout")), timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        this.socket = socket;
        this.buffer = Buffer.alloc(0);
        resolve();
      });
      socket.on("data", (chunk: Buffer) => {
        if (this.socket === socket) this.onData(chunk);
      });
      socket.on("error", (error) => {
        clearTimeout(timer);
        this.fail(socket, error);
        reject(error);
      });
      socket.on("close", () => this.fail(socket, new Error("connection closed by the server")));
    });
  }

  /** Writes `request` (connecting first if needed) and resolves with its answer. */
  async send(request: string, timeoutMs = 30_000): Promise<RawAnswer> {
    if (this.waiting) throw new Error("one request at a time per connection");
    await this.connect();
    const socket = this.socket;
    if (!socket) throw new Error("not connected");
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => socket.destroy(new Error("timeout")), timeoutMs);
      this.waiting = { socket, resolve, reject, timer };
      socket.write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const waiting = this.waiting;
    if (!waiting) return;
    let parsed: Parsed | undefined;
    try {
      parsed = parseAnswer(this.buffer);
    } catch (error) {
      this.socket?.destroy(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (!parsed) return;
    this.buffer = this.buffer.subarray(parsed.length);
    this.waiting = undefined;
    this.lastAnswerAt = performance.now();
    clearTimeout(waiting.timer);
    if (parsed.close) this.close();
    waiting.resolve(parsed.answer);
  }

  private fail(socket: Socket, error: Error): void {
    if (this.socket === socket) this.socket = undefined;
    const waiting = this.waiting;
    if (waiting?.socket !== socket) return;
    this.waiting = undefined;
    clearTimeout(waiting.timer);
    waiting.reject(error);
  }
}

/** `ECONNRESET`, `timeout`, …: a short label for a failed request. */
export function errorLabel(error: unknown): string {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return error instanceof Error ? error.message : String(error);
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

/** workerd closes idle keep-alive connections after 15 s; ours go first, so a request never races that close. */
const IDLE_SOCKET_MS = 10_000;

/** Up to `maxSockets` keep-alive connections to one server; requests beyond them wait for a free one. */
export class HttpClient {
  private readonly idle: RawConnection[] = [];
  private opened = 0;
  private readonly queue: ((connection: RawConnection) => void)[] = [];

  constructor(
    readonly baseUrl: URL,
    private readonly options: { maxSockets: number },
  ) {}

  async request(method: string, path: string, options: RequestOptions = {}): Promise<RawAnswer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (body !== undefined) headers["Content-Type"] = "application/json";
    // The clock starts when a connection is ours: time queued behind this
    // client's own earlier requests is not the server's to answer for.
    const connection = await this.take();
    try {
      return await connection.send(buildRequest(method, path, headers, body), options.timeoutMs ?? 10_000);
    } catch (error) {
      connection.close();
      throw new NetworkError(errorLabel(error), error instanceof Error ? error.message : String(error));
    } finally {
      this.give(connection);
    }
  }

  close(): void {
    for (const connection of this.idle.splice(0)) connection.close();
  }

  private take(): Promise<RawConnection> {
    const connection = this.idle.pop();
    if (connection?.open && connection.idleMs > IDLE_SOCKET_MS) connection.close();
    if (connection) return Promise.resolve(connection);
    if (this.opened < this.options.maxSockets) {
      this.opened += 1;
      return Promise.resolve(new RawConnection(this.baseUrl));
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private give(connection: RawConnection): void {
    const next = this.queue.shift();
    if (next) next(connection);
    else this.idle.push(connection);
  }
}

/** What an answer was, in one short label: `201`, `422 bid_increment_too_small`, `502 HTTP`. */
export function outcomeLabel(answer: RawAnswer): string {
  return answer.status < 300
    ? String(answer.status)
    : `${answer.status} ${problemOf(answer.body)?.code ?? "HTTP"}`;
}

/** `text` as `schema` reads it, or undefined when it is not JSON or does not match. */
export function jsonOf<T extends z.ZodType>(schema: T, text: string): z.output<T> | undefined {
  try {
    return schema.safeParse(JSON.parse(text)).data;
  } catch {
    return undefined;
  }
}

/** The problem document `text` is, if it is one. */
export const problemOf = (text: string) => jsonOf(ProblemSchema, text);

/** The body of the answer, checked: an answer other than the one expected, or a body that does not match, throws. */
export function expectJson<T extends z.ZodType>(
  answer: RawAnswer,
  status: number,
  schema: T,
  what: string,
): z.output<T> {
  if (answer.status !== status) {
    throw new Error(`${what}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    throw new Error(`${what}: the body is not JSON: ${answer.body.slice(0, 200)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`${what}: unexpected body: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  }
  return parsed.data;
}
