// Watches a session's leaderboard from the terminal over GET /v1/sessions/{id}/live,
// reconnecting with backoff when the connection drops, until the session ends.
import { setTimeout as sleep } from "node:timers/promises";
import { LiveMessageSchema } from "../../src/api/contract.js";
import { formatTable } from "../../tools/table.js";
import type { LeaderboardMessage } from "../kit/api.js";
import * as cli from "../kit/cli.js";
import { jsonOf } from "../kit/http.js";
import { requireSession } from "./session-preflight.js";

const USAGE = `usage: npm run live -- --session ID [--url http://127.0.0.1:\${PORT:-8787}] [--limit 10] [--max-minutes 60]`;
const CLEAR_SCREEN = "\x1b[H\x1b[2J";
const MAX_BACKOFF_MS = 10_000;

function render(sessionId: string, board: LeaderboardMessage, messages: number, reconnects: number): string {
  const rows = board.entries.map((e) => [String(e.rank), e.username ?? `#${e.userId}`, String(e.amount)]);
  return [
    `session ${sessionId} · ${board.status} · ${board.total} bidders · seq ${board.seq} · as of ${board.asOf}`,
    `messages ${messages} · reconnects ${reconnects}`,
    "",
    formatTable(["rank", "user", "amount"], rows),
  ].join("\n");
}

/** One connection; resolves true when the session ended, false when the socket dropped. */
function watchOnce(url: string, onBoard: (board: LeaderboardMessage) => void): Promise<boolean> {
  return new Promise((resolve) => {
    let ended = false;
    const socket = new WebSocket(url);
    socket.addEventListener("message", (event) => {
      const text = String(event.data);
      const message = jsonOf(LiveMessageSchema, text);
      if (message === undefined) {
        console.error(`live: a message that does not match the contract: ${text.slice(0, 200)}`);
        return;
      }
      switch (message.type) {
        case "leaderboard":
          onBoard(message);
          break;
        case "status":
          ended = message.status === "ended";
          break;
        case "extended":
        case "result":
          // Not drawn: this view shows the board.
          break;
      }
    });
    // A failed connection fires error, then close: close resolves. (Calling
    // close() from the error handler raised the error again, without end.)
    socket.addEventListener("close", () => resolve(ended));
  });
}

async function main(): Promise<number> {
  const values = cli.parseOptions({
    url: { type: "string" },
    session: { type: "string" },
    limit: { type: "string" },
    "max-minutes": { type: "string" },
  });
  if (!values.session) throw new cli.UsageError("--session is required");
  const sessionId = cli.sessionIdOption(values.session);
  const api = cli.loopbackApiUrl(values.url ?? cli.defaultApiUrl());
  const limit = cli.integerOption("limit", values.limit, 10, { min: 1, max: 100 });
  const maxMinutes = cli.integerOption("max-minutes", values["max-minutes"], 60, { min: 1, max: 24 * 60 });
  await requireSession(api, sessionId);
  const deadline = Date.now() + maxMinutes * 60_000;
  const url = new URL(`/v1/sessions/${sessionId}/live?limit=${limit}`, api);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";

  let messages = 0;
  let reconnects = 0;
  let backoff = 500;
  while (Date.now() < deadline) {
    const ended = await watchOnce(url.toString(), (board) => {
      messages += 1;
      backoff = 500;
      process.stdout.write(CLEAR_SCREEN + render(sessionId, board, messages, reconnects));
    });
    if (ended) {
      console.log("\nThe session has ended.");
      return 0;
    }
    reconnects += 1;
    console.log(`\nConnection lost; reconnecting in ${backoff} ms…`);
    await sleep(backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
  return 0;
}

cli.runCommand("live", USAGE, main);
