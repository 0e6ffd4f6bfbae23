import { exports } from "cloudflare:workers";

export interface LiveBoardMessage {
  type: "leaderboard";
  seq: number;
  total: number;
  status: string;
  entries: { rank: number; userId: number; username: string | null; amount: number }[];
}
export type LiveMessage =
  | LiveBoardMessage
  | { type: "status"; status: string }
  | { type: "extended"; endsAt: string; extensions: number; serverTime: string }
  | {
      type: "result";
      winners: { rank: number; userId: number; username: string | null; amount: number }[];
      reserveMet: boolean;
      finalSeq: number;
    };

export interface Watcher {
  messages: { at: number; message: LiveMessage }[];
  closed: Promise<{ code: number }>;
  socket: WebSocket;
  /** Resolves when a message matching `predicate` has arrived. */
  until(predicate: (message: LiveMessage) => boolean, timeoutMs?: number): Promise<LiveMessage>;
}

export async function watch(sessionId: string, query = ""): Promise<Watcher> {
  const res = await exports.default.fetch(`http://bidding.test/v1/sessions/${sessionId}/live${query}`, {
    headers: { Upgrade: "websocket" },
  });
  const socket = res.webSocket;
  if (res.status !== 101 || !socket) throw new Error(`no upgrade: ${res.status} ${await res.text()}`);
  socket.accept();
  const messages: Watcher["messages"] = [];
  const listeners = new Set<() => void>();
  socket.addEventListener("message", (event) => {
    messages.push({ at: Date.now(), message: JSON.parse(String(event.data)) });
    for (const listener of listeners) listener();
  });
  const closed = new Promise<{ code: number }>((resolve) =>
    socket.addEventListener("close", (event) => resolve({ code: event.code })),
  );
  const until: Watcher["until"] = (predicate, timeoutMs = 5_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = messages.find((m) => predicate(m.message));
        if (!found) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(found.message);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(
            `no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.message))}`,
          ),
        );
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return { messages, closed, socket, until };
}
