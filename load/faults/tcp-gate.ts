// A TCP proxy whose path can be cut on demand, for faults that are not
// PostgreSQL's (the pg wire proxy in test/support covers those):
//   open       forwards both ways
//   refuse     drops every connection at once: the peer sees a reset
//   blackhole  accepts connections and never answers: the peer waits for its own timeout
import { connect, createServer, type Socket } from "node:net";
import { closeServer, listen } from "../../tools/net.js";

export type GateMode = "open" | "refuse" | "blackhole";

export interface TcpGate {
  port: number;
  setMode(mode: GateMode): void;
  close(): Promise<void>;
}

export async function startTcpGate(opts: { targetHost: string; targetPort: number }): Promise<TcpGate> {
  let mode: GateMode = "open";
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // Resets are the point of this gate; they must not crash the process.
    socket.on("error", () => socket.destroy());
  };

  const server = createServer((client) => {
    track(client);
    if (mode === "refuse") {
      client.resetAndDestroy();
      return;
    }
    if (mode === "blackhole") {
      client.resume();
      return;
    }
    const upstream = connect(opts.targetPort, opts.targetHost);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const destroyBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", destroyBoth);
    upstream.on("close", destroyBoth);
  });
  const port = await listen(server, "127.0.0.1", 0);

  return {
    port,
    setMode(next: GateMode) {
      mode = next;
      // Kept-alive connections (and held ones) would otherwise carry on as before the change.
      for (const socket of sockets) socket.resetAndDestroy();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    },
  };
}
