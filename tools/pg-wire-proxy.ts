// A PostgreSQL wire-protocol TCP proxy, for the tests (run in Node by the
// globalSetup), the fault drills and the leaderboard benchmark: it sits between
// the Worker (through its Hyperdrive binding) and the database, so the database
// can be taken down and up, and the SQL statements that reach it counted.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, createServer as createTcpServer, type Socket } from "node:net";
import { z } from "zod";
import { closeServer, listen } from "./net.js";

export interface WireCounters {
  connections: number;
  statements: number;
}

export interface PgWireProxy {
  /** postgres URL through the proxy: same user/password/database as the target, host 127.0.0.1, the proxy's port */
  url: string;
  /** base URL of a small HTTP control API, e.g. http://127.0.0.1:PORT */
  controlUrl: string;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const QUERY = 0x51; // 'Q'
const EXECUTE = 0x45; // 'E'

/**
 * Reads the frontend (client to server) stream and calls onStatement per
 * simple Query and per Execute. Only message headers are kept; bodies are
 * skipped by count, so large messages are never buffered.
 */
class FrontendParser {
  // The first message (and the one after an SSL/GSSENC request) has no type byte.
  private untyped = true;
  private readonly header = Buffer.alloc(8);
  private headerBytes = 0;
  private skip = 0;
  private broken = false;

  constructor(private readonly onStatement: () => void) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.broken) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - offset);
        this.skip -= n;
        offset += n;
        continue;
      }
      const headerSize = this.untyped ? 8 : 5;
      const n = Math.min(headerSize - this.headerBytes, chunk.length - offset);
      chunk.copy(this.header, this.headerBytes, offset, offset + n);
      this.headerBytes += n;
      offset += n;
      if (this.headerBytes < headerSize) return;
      this.headerBytes = 0;
      if (this.untyped) {
        const length = this.header.readInt32BE(0);
        const code = this.header.readInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.untyped = false;
        this.skip = length - 8;
      } else {
        const type = this.header[0];
        if (type === QUERY || type === EXECUTE) this.onStatement();
        this.skip = this.header.readInt32BE(1) - 4;
      }
      // A length shorter than its own header: the server will reject the
      // stream, and we cannot tell where messages start any more.
      if (this.skip < 0) this.broken = true;
    }
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

export async function startPgWireProxy(opts: {
  targetUrl: string;
  host?: string;
  port?: number;
}): Promise<PgWireProxy> {
  const target = new URL(opts.targetUrl);
  // URL keeps brackets around an IPv6 hostname; net.connect wants them off.
  const targetHost = target.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  const targetPort = Number(target.port || "5432");

  let up = true;
  const counters: WireCounters = { connections: 0, statements: 0 };
  const sockets = new Set<Socket>();

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };

  const proxy = createTcpServer((client) => {
    // Down: the connection closes at once. Closed, not reset (destroy) nor refused: workerd
    // logs every reset connection and every refused one on its stderr, which reads as a failure.
    if (!up) {
      track(client);
      client.resume();
      client.end();
      return;
    }
    counters.connections++;
    const server = connect(targetPort, targetHost);
    track(client);
    track(server);
    client.setNoDelay(true);
    server.setNoDelay(true);
    const parser = new FrontendParser(() => counters.statements++);
    // Writes before the upstream connection is open are buffered by the socket.
    client.on("data", (chunk: Buffer) => parser.push(chunk));
    client.pipe(server);
    server.pipe(client);
    // Whichever side ends or fails, the other goes too: a half-open
    // connection would leave the driver waiting.
    const destroyBoth = () => {
      client.destroy();
      server.destroy();
    };
    for (const socket of [client, server]) {
      socket.on("error", destroyBoth);
      socket.on("close", destroyBoth);
    }
  });

  const control = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
    // Drain any body so keep-alive connections stay usable.
    request.resume();
    const route = `${request.method ?? ""} ${new URL(request.url ?? "/", "http://control").pathname}`;
    switch (route) {
      case "POST /down":
        up = false;
        for (const socket of sockets) socket.end();
        sendJson(response, 200, { state: "down" });
        return;
      case "POST /up":
        up = true;
        sendJson(response, 200, { state: "up" });
        return;
      case "GET /counters":
        sendJson(response, 200, counters);
        return;
      case "POST /reset":
        counters.connections = 0;
        counters.statements = 0;
        sendJson(response, 200, counters);
        return;
      default:
        sendJson(response, 404, { error: "expected POST /down, POST /up, GET /counters or POST /reset" });
    }
  });

  const host = opts.host ?? "127.0.0.1";
  const port = await listen(proxy, host, opts.port ?? 0);
  let controlPort: number;
  try {
    controlPort = await listen(control, host, 0);
  } catch (error) {
    await closeServer(proxy);
    throw error;
  }

  const urlHost = host.includes(":") ? `[${host}]` : host;
  const url = new URL(opts.targetUrl);
  url.hostname = urlHost;
  url.port = String(port);
  return {
    url: url.toString(),
    controlUrl: `http://${urlHost}:${controlPort}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      control.closeAllConnections();
      await Promise.all([closeServer(proxy), closeServer(control)]);
    },
  };
}

/** Cuts the path to PostgreSQL, restores it, or zeroes the counters, through a proxy's control URL. */
export async function setWireProxy(controlUrl: string, route: "down" | "up" | "reset"): Promise<void> {
  const response = await fetch(`${controlUrl}/${route}`, {
    method: "POST",
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`pg wire proxy: POST /${route} answered ${response.status}`);
}

/** A proxy's counters, read through its control URL (in this process or another: npm run pg-wire-counter). */
export async function readWireCounters(controlUrl: string): Promise<WireCounters> {
  const response = await fetch(`${controlUrl}/counters`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`pg wire proxy: GET /counters answered ${response.status}`);
  const body: unknown = await response.json();
  const counters = z.object({ connections: z.number(), statements: z.number() }).safeParse(body);
  if (!counters.success) throw new Error("pg wire proxy: GET /counters gave no counters");
  return counters.data;
}
