// PGlite (PostgreSQL in WebAssembly) served over the wire protocol, so a machine
// with nothing but Node has a database for `npm run dev` and the tests.
import { mkdirSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { closeServer, errorMessage, listen } from "./net.js";

export interface EmbeddedPostgresOptions {
  /** undefined = in memory */
  dataDir?: string;
  host?: string;
  /** 0 = a free port */
  port?: number;
}

export interface EmbeddedPostgres {
  /** postgres://postgres:postgres@127.0.0.1:PORT/postgres */
  url: string;
  close(): Promise<void>;
}

// A Worker opens a connection per request, and connections past the limit are
// reset rather than queued; PGlite still runs one query at a time.
const MAX_CONNECTIONS = 100;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const TERMINATE = 0x58; // 'X'

/**
 * Follows the frontend message framing of one connection and calls onTerminate
 * when the client sends Terminate. PostgreSQL closes the connection then, and
 * clients (the Neon driver's end() among them) wait for that close; pglite-socket
 * never closes it, so without this they hang.
 */
function watchForTerminate(onTerminate: () => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  let inStartup = true;
  // On a malformed length, stop following (PGlite answers the client with an error).
  let lost = false;
  return (chunk) => {
    if (lost) return;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      if (inStartup) {
        // Startup packets have no type byte: int32 length, int32 code.
        if (pending.length < 8) return;
        const length = pending.readInt32BE(0);
        if (length < 8) {
          lost = true;
          return;
        }
        if (pending.length < length) return;
        const code = pending.readInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) inStartup = false;
        pending = pending.subarray(length);
      } else {
        if (pending.length < 5) return;
        if (pending[0] === TERMINATE) {
          onTerminate();
          return;
        }
        const length = 1 + pending.readInt32BE(1);
        if (length < 5) {
          lost = true;
          return;
        }
        if (pending.length < length) return;
        pending = pending.subarray(length);
      }
    }
  };
}

/**
 * PGlite holds one session, and its socket server mixes up the messages of
 * connections that talk at once (one client's Bind meeting another's Parse).
 * So connections take turns, each for its whole life: a client waits, paused,
 * until the one before it has closed. Connections here are short (one per
 * unit of work), so a turn is short.
 */
class Turns {
  private readonly waiting: (() => void)[] = [];
  private busy = false;

  take(start: () => void): void {
    if (this.busy) this.waiting.push(start);
    else {
      this.busy = true;
      start();
    }
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.busy = false;
  }
}

/** Pipes a client to PGlite's socket server in its turn, closing both sides after Terminate. */
function relay(client: Socket, upstreamPort: number, turns: Turns): void {
  client.pause();
  client.setNoDelay(true);
  let gone = false;
  client.on("close", () => {
    gone = true;
  });
  // A client that resets while it waits for its turn must not crash the server.
  client.on("error", () => {});
  turns.take(() => {
    if (gone) {
      turns.release();
      return;
    }
    const upstream = connect(upstreamPort, "127.0.0.1");
    upstream.setNoDelay(true);
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        turns.release();
      }
    };
    const watch = watchForTerminate(() => {
      upstream.end();
      client.end();
    });
    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      watch(chunk);
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => {
      client.destroy();
      release();
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.resume();
  });
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  if (opts.dataDir !== undefined) mkdirSync(opts.dataDir, { recursive: true });
  const db = await PGlite.create(opts.dataDir === undefined ? undefined : resolve(opts.dataDir));
  const pgliteServer = new PGLiteSocketServer({
    db,
    host: "127.0.0.1",
    port: 0,
    maxConnections: MAX_CONNECTIONS,
  });
  let upstreamPort = 0;
  const clients = new Set<Socket>();
  const turns = new Turns();
  const front = createServer((client) => {
    clients.add(client);
    client.on("close", () => clients.delete(client));
    relay(client, upstreamPort, turns);
  });
  let port: number;
  try {
    await pgliteServer.start();
    // getServerConn() is "host:port" with the bound port once started.
    const address = pgliteServer.getServerConn();
    upstreamPort = Number(address.slice(address.lastIndexOf(":") + 1));
    port = await listen(front, opts.host ?? "127.0.0.1", opts.port ?? 0);
  } catch (error) {
    await pgliteServer.stop();
    await db.close();
    throw error;
  }
  return {
    // PGlite accepts any password (trust auth); wrangler's Hyperdrive binding insists on one.
    url: `postgres://postgres:postgres@${opts.host ?? "127.0.0.1"}:${port}/postgres`,
    async close() {
      for (const client of clients) client.destroy();
      await closeServer(front);
      await pgliteServer.stop();
      await db.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const usage =
    "usage: tsx tools/embedded-postgres.ts [--data-dir .data/pglite] [--host 127.0.0.1] [--port 5433]";
  let values: { "data-dir"?: string; host?: string; port?: string };
  try {
    ({ values } = parseArgs({
      options: { "data-dir": { type: "string" }, host: { type: "string" }, port: { type: "string" } },
    }));
  } catch (error) {
    console.error(`${errorMessage(error)}\n${usage}`);
    process.exit(2);
  }
  const port = Number(values.port ?? "5433");
  if (!Number.isInteger(port)) {
    console.error(usage);
    process.exit(2);
  }
  try {
    const pg = await startEmbeddedPostgres({ dataDir: values["data-dir"], host: values.host, port });
    console.log(`PGlite on ${pg.url} (${values["data-dir"] ?? "in memory"})`);
    const stop = () => void pg.close().then(() => process.exit(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  } catch (error) {
    console.error(`embedded-postgres: ${errorMessage(error)}`);
    process.exit(1);
  }
}
