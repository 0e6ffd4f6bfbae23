// Neon's wsproxy protocol, so @neondatabase/serverless can reach a local
// PostgreSQL: a WebSocket to /v2?address=host:port is piped to a TCP socket.
import { createServer, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { closeServer, errorMessage, listen } from "./net.js";

export interface WsProxyOptions {
  host?: string;
  /** 0 = a free port */
  port?: number;
}

export interface WsProxy {
  /** What neonConfig.wsProxy takes as a string: host:port/v2 (the driver appends ?address=). */
  url: string;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1"]);

type Target = { host: string; port: number };
type Refusal = { status: string; reason: string };

/** host and port from `/v2?address=host:port` (IPv6 as [::1]:5432); only loopback targets. */
function parseTarget(request: IncomingMessage): Target | Refusal {
  const url = new URL(request.url ?? "/", "http://proxy");
  if (url.pathname !== "/v2") return { status: "404 Not Found", reason: "expected /v2?address=host:port" };
  const address = url.searchParams.get("address") ?? "";
  const separator = address.lastIndexOf(":");
  const host = address.slice(0, separator).replace(/^\[(.*)\]$/, "$1");
  const port = Number(address.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    return { status: "400 Bad Request", reason: "expected ?address=host:port" };
  }
  if (!LOOPBACK_HOSTS.has(host)) {
    return { status: "403 Forbidden", reason: `only loopback targets are allowed, not ${host}` };
  }
  return { host, port };
}

function pipe(ws: WebSocket, target: Target): void {
  const socket = connect(target.port, target.host);
  socket.setNoDelay(true);
  // Bytes sent before the TCP connection is up are buffered by the socket.
  ws.on("message", (data: RawData) => {
    if (Array.isArray(data)) for (const chunk of data) socket.write(chunk);
    else socket.write(Buffer.isBuffer(data) ? data : new Uint8Array(data));
  });
  socket.on("data", (chunk) => ws.send(chunk));
  ws.on("close", () => socket.destroy());
  ws.on("error", () => socket.destroy());
  socket.on("close", () => ws.close());
  socket.on("error", () => ws.close(1011, "upstream error"));
}

export async function startWsProxy(opts: WsProxyOptions): Promise<WsProxy> {
  const server = createServer((_request, response) => {
    response.writeHead(426, { "content-type": "text/plain" });
    response.end("WebSocket upgrade required\n");
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (request, socket, head) => {
    const target = parseTarget(request);
    if ("reason" in target) {
      socket.end(
        `HTTP/1.1 ${target.status}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${target.reason}\n`,
      );
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => pipe(ws, target));
  });
  const host = opts.host ?? "127.0.0.1";
  const port = await listen(server, host, opts.port ?? 0);
  return {
    url: `${host}:${port}/v2`,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await closeServer(server);
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const usage = "usage: tsx tools/ws-proxy.ts [--host 127.0.0.1] [--port 0]";
  let values: { host?: string; port?: string };
  try {
    ({ values } = parseArgs({ options: { host: { type: "string" }, port: { type: "string" } } }));
  } catch (error) {
    console.error(`${errorMessage(error)}\n${usage}`);
    process.exit(2);
  }
  const port = Number(values.port ?? "0");
  if (!Number.isInteger(port)) {
    console.error(usage);
    process.exit(2);
  }
  try {
    const proxy = await startWsProxy({ host: values.host, port });
    console.log(`Neon WebSocket proxy on ws://${proxy.url} (set NEON_WS_PROXY=${proxy.url})`);
    const stop = () => void proxy.close().then(() => process.exit(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  } catch (error) {
    console.error(`ws-proxy: ${errorMessage(error)}`);
    process.exit(1);
  }
}
