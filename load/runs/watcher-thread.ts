// The watchers' WebSockets, in a worker thread of `npm run load` (started by watchers.ts), so a
// burst of a thousand boards never delays the main thread's bids and their timing, nor the other
// way round. Every socket counts its messages; the sampled ones also post each board's seq and
// arrival time (epoch ms, sub-millisecond) to the main thread, which matches them with the 201s.
// Signed-in sockets (the `bearer.<JWT>` subprotocol) post every outbid message they get.
import { once } from "node:events";
import { parentPort, workerData } from "node:worker_threads";
import { LeaderboardMessageSchema, OutbidMessageSchema } from "../../src/api/contract.js";
import { forEachConcurrently } from "../kit/concurrency.js";
import { jsonOf } from "../kit/http.js";
import { type FromThread, ThreadPlanSchema, ToThreadSchema } from "./watcher-protocol.js";

const CONNECT_CONCURRENCY = 50;
const CONNECT_TIMEOUT_MS = 15_000;
const CONNECT_DEADLINE_MS = 180_000;
const CLOSE_TIMEOUT_MS = 5_000;
const TICK_MS = 1_000;
/** The thread ends on its own at the latest after this long, whatever the main thread does. */
const LIFETIME_MS = 6 * 3600_000;

const port = parentPort;
if (!port) throw new Error("watcher-thread.ts runs as a worker thread of load/runs/watchers.ts");
const plan = ThreadPlanSchema.parse(workerData);
const post = (message: FromThread) => port.postMessage(message);
const epochNow = () => performance.timeOrigin + performance.now();

const sockets: WebSocket[] = [];
const counts = new Map<number, number>();
const openedIndexes: number[] = [];
let messagesInTick = 0;
let closedEarly = 0;
let finishing = false;

/** Only what the timing needs of a board: checking the whole of a thousand boards would cost the thread its pace. */
const BoardSeqSchema = LeaderboardMessageSchema.pick({ type: true, seq: true });

function seqOf(data: unknown): number | undefined {
  return typeof data === "string" ? jsonOf(BoardSeqSchema, data)?.seq : undefined;
}

/** Personal messages are short; boards are not, and are never parsed here unless sampled. */
const PERSONAL_MESSAGE_MAX_CHARS = 200;

function outbidAmountOf(data: unknown): number | undefined {
  if (typeof data !== "string" || data.length > PERSONAL_MESSAGE_MAX_CHARS) return undefined;
  return jsonOf(OutbidMessageSchema, data)?.amount;
}

function open(url: string, index: number, sampled: boolean): Promise<boolean> {
  const user = plan.users[index];
  const socket = user ? new WebSocket(url, ["bearer", `bearer.${user.token}`]) : new WebSocket(url);
  counts.set(index, 0);
  socket.addEventListener("message", (event) => {
    const at = epochNow();
    messagesInTick += 1;
    counts.set(index, (counts.get(index) ?? 0) + 1);
    if (user) {
      const amount = outbidAmountOf(event.data);
      if (amount !== undefined) {
        post({ type: "outbid", userId: user.id, amount, at });
        return;
      }
    }
    if (!sampled) return;
    const seq = seqOf(event.data);
    if (seq !== undefined) post({ type: "board", index, seq, at });
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.close();
      resolve(false);
    }, CONNECT_TIMEOUT_MS);
    socket.addEventListener("open", () => {
      clearTimeout(timer);
      sockets.push(socket);
      openedIndexes.push(index);
      resolve(true);
    });
    socket.addEventListener("close", () => {
      clearTimeout(timer);
      if (!finishing && sockets.includes(socket)) closedEarly += 1;
      resolve(false);
    });
    socket.addEventListener("error", () => socket.close());
  });
}

async function connectAll(): Promise<void> {
  const url = new URL(`/v1/sessions/${plan.sessionId}/live?limit=${plan.limit}`, plan.url);
  url.protocol = "ws:";
  const sampled = new Set(plan.sampledIndexes);
  const started = performance.now();
  const deadline = Date.now() + CONNECT_DEADLINE_MS;
  let opened = 0;
  let failed = 0;
  const indexes = Array.from({ length: plan.count }, (_, index) => index);
  await forEachConcurrently(indexes, CONNECT_CONCURRENCY, async (index) => {
    if (Date.now() < deadline && (await open(url.toString(), index, sampled.has(index)))) opened += 1;
    else failed += 1;
  });
  const signedIn = openedIndexes.flatMap((index) => plan.users[index]?.id ?? []);
  post({ type: "connected", opened, failed, ms: performance.now() - started, signedIn });
}

async function closeAll(): Promise<void> {
  finishing = true;
  const open = sockets.filter((socket) => socket.readyState !== WebSocket.CLOSED);
  await Promise.all(
    open.map((socket) => {
      const closed = once(socket, "close", { signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }).catch(() => {});
      socket.close(1000, "load run finished");
      return closed;
    }),
  );
}

const ticker = setInterval(() => {
  post({ type: "tick", messages: messagesInTick, open: sockets.length - closedEarly });
  messagesInTick = 0;
}, TICK_MS);
const lifetime = setTimeout(() => process.exit(0), LIFETIME_MS);

port.on("message", (raw: unknown) => {
  const message = ToThreadSchema.parse(raw);
  switch (message.type) {
    case "finish": {
      // Counted before closing: the totals are those of the run.
      const perWatcher = openedIndexes.map((index) => counts.get(index) ?? 0);
      const totals = { opened: sockets.length, closedEarly, perWatcher, lastTick: messagesInTick };
      void closeAll().then(() => {
        clearInterval(ticker);
        clearTimeout(lifetime);
        post({ type: "totals", ...totals });
        port.close();
      });
      break;
    }
  }
});

void connectAll();
