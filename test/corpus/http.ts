// A raw HTTP/1.1 client on node:net. The corpus needs bytes no ordinary client
// sends: request targets with `..`, `//` or `%00` left as they are, control
// characters in header values, bodies without Content-Type, chunked bodies.
// One connection per request (Connection: close), so a bad request cannot
// poison the next one.
import { connect } from "node:net";
import type { SentRequest, Transport } from "./request.js";

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers keep every value. */
  headers: ReadonlyMap<string, readonly string[]>;
  body: Buffer;
  ms: number;
}

/** No response: refused, reset before the head arrived, or the timeout ran out. */
export class NoResponse extends Error {}

const CHUNK_BYTES = 4096;

/** The request's bytes, with Host and Content-Length added, and Connection: close unless given. */
function serialize(host: string, request: SentRequest): Buffer {
  const lines = [`${request.method} ${request.target} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  const body = request.body;
  if (body !== undefined) {
    lines.push(request.chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${body.length}`);
  }
  // One request per connection, unless the case speaks for itself (a WebSocket upgrade).
  if (!request.headers.some(([name]) => name.toLowerCase() === "connection")) lines.push("Connection: close");
  lines.push("", "");
  // UTF-8 for the head: ASCII stays ASCII; other characters go out as a UTF-8 client would send them.
  const head = Buffer.from(lines.join("\r\n"), "utf8");
  if (body === undefined) return head;
  if (!request.chunked) return Buffer.concat([head, body]);
  const parts: Uint8Array[] = [head];
  for (let offset = 0; offset < body.length; offset += CHUNK_BYTES) {
    const chunk = body.subarray(offset, offset + CHUNK_BYTES);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from("0\r\n\r\n"));
  return Buffer.concat(parts);
}

interface Head {
  status: number;
  headers: Map<string, string[]>;
  bodyStart: number;
}

function parseHead(data: Buffer): Head | undefined {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine = "", ...lines] = data.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(statusLine.match(/^HTTP\/1\.[01] ([0-9]{3})/)?.[1]);
  if (!Number.isInteger(status)) throw new NoResponse(`not an HTTP response: ${statusLine.slice(0, 80)}`);
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { status, headers, bodyStart: end + 4 };
}

/** The decoded body once it is complete, else undefined. */
function decodeChunked(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", offset);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString("latin1").split(";")[0] ?? "", 16);
    if (!Number.isInteger(size) || size < 0) throw new NoResponse("a malformed chunked response body");
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return undefined;
    parts.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}

/** The body when the response is complete; `closed` says the server has closed the connection. */
function completeBody(head: Head, data: Buffer, closed: boolean): Buffer | undefined {
  const rest = data.subarray(head.bodyStart);
  if (head.headers.get("transfer-encoding")?.some((v) => /chunked/i.test(v))) {
    const body = decodeChunked(rest);
    if (body === undefined && closed) throw new NoResponse("the connection closed inside a chunked body");
    return body;
  }
  const length = head.headers.get("content-length")?.[0];
  if (length !== undefined) {
    const expected = Number(length);
    if (rest.length >= expected) return rest.subarray(0, expected);
    if (closed) throw new NoResponse(`the connection closed after ${rest.length} of ${expected} body bytes`);
    return undefined;
  }
  if (head.status === 204 || head.status === 304 || head.status === 101) return Buffer.alloc(0);
  return closed ? rest : undefined;
}

export function sendRaw(base: URL, request: SentRequest, timeoutMs: number): Promise<RawResponse> {
  const started = performance.now();
  const host = base.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(base.port || 80);
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    let settled = false;
    const socket = connect({ host, port });
    const finish = (outcome: RawResponse | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    /** Resolves when a whole response is in; with `closed`, rejects when none can come any more. */
    const tryFinish = (closed: boolean, cause?: Error) => {
      try {
        const head = parseHead(data);
        const body = head && completeBody(head, data, closed);
        if (head && body) {
          finish({ status: head.status, headers: head.headers, body, ms: performance.now() - started });
        } else if (closed) {
          finish(new NoResponse(cause ? cause.message : "the connection closed before a response"));
        }
      } catch (error) {
        finish(error instanceof Error ? error : new NoResponse(String(error)));
      }
    };
    const timer = setTimeout(() => finish(new NoResponse(`no response within ${timeoutMs} ms`)), timeoutMs);
    socket.on("connect", () => socket.write(serialize(base.host, request)));
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      tryFinish(false);
    });
    socket.on("end", () => tryFinish(true));
    socket.on("close", () => tryFinish(true));
    // A server may answer (413) and reset before reading the whole body: keep what arrived.
    socket.on("error", (error) => tryFinish(true, error));
  });
}

/** The corpus's transport live: one raw connection per request. */
export function rawTransport(base: URL, timeoutMs: number): Transport {
  return async (request) => {
    const response = await sendRaw(base, request, timeoutMs);
    return {
      status: response.status,
      contentType: response.headers.get("content-type")?.join(", ") ?? null,
      body: response.body.toString("utf8"),
      ms: response.ms,
    };
  };
}
