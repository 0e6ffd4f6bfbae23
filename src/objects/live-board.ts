import { problemResponse } from "../api/problem";
import { BIDDER_HEADER, type LiveLeaderboard, type Results } from "../api/session-protocol";
import type { Displaced } from "../bidding/batch-decision";

/** What the server sends on /live: a discriminated union, clients switch on `type`. */
export type LiveMessage =
  | ({ type: "leaderboard" } & LiveLeaderboard)
  | { type: "extended"; endsAt: string; extensions: number; serverTime: string }
  | ({ type: "result" } & Results)
  | { type: "status"; status: "ended" }
  // For one authenticated user's sockets only:
  | { type: "outbid"; amount: number; rank: number }
  | { type: "won"; amount: number; rank: number }
  | { type: "lost" };

/** Per-socket data that survives hibernation. */
interface SocketAttachment {
  limit: number;
  /** The user a `bearer.<JWT>` subprotocol authenticated; absent for anonymous watchers. */
  userId?: number;
}

/** The hibernation tag of a user's sockets, so they are found without scanning every socket. */
const userTag = (userId: number) => `user:${userId}`;

const LIVE_INTERVAL_MS = 250;
/** Watchers see at most the top 100, so lower bids change nothing they see. */
const MAX_LIVE_DEPTH = 100;
/**
 * Boards sent per turn of the event loop: the bids waiting on the object are
 * decided between chunks, instead of after a thousand sends.
 */
const SOCKETS_PER_TURN = 100;
const DEFAULT_LIVE_LIMIT = 50;

function attachmentOf(socket: WebSocket): SocketAttachment {
  const stored: unknown = socket.deserializeAttachment();
  if (typeof stored !== "object" || stored === null) return { limit: DEFAULT_LIVE_LIMIT };
  const limit = "limit" in stored && typeof stored.limit === "number" ? stored.limit : DEFAULT_LIVE_LIMIT;
  const userId = "userId" in stored && typeof stored.userId === "number" ? stored.userId : undefined;
  return userId === undefined ? { limit } : { limit, userId };
}

/** What the end means for one user: `won` with the winning bid, or `lost`. */
function verdictFor(results: Results, userId: number): LiveMessage {
  const winner = results.winners.find((w) => w.userId === userId);
  return winner ? { type: "won", amount: winner.amount, rank: winner.rank } : { type: "lost" };
}

/**
 * The session's WebSocket watchers, held through the hibernation API. Board
 * changes are coalesced: each socket gets at most one message per 250 ms,
 * however many bids arrive; a round of boards goes out a chunk of sockets per
 * turn, each message built once per chunk and board size.
 */
export class LiveBoard {
  /** When each socket was last sent a board, and which version; memory only (hibernation implies silence). */
  private readonly lastSent = new WeakMap<WebSocket, { at: number; version: number }>();
  /** Counts board changes, so a socket is sent each change once. */
  private version = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /**
   * The round of boards under way: its sockets, the next to look at, when
   * the soonest skipped one is due (epoch ms), and when it started and at
   * which version.
   */
  private round:
    | { sockets: WebSocket[]; next: number; nextDueAt: number; startedAt: number; version: number }
    | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly boardOf: (limit: number) => LiveLeaderboard,
  ) {}

  get sockets(): number {
    return this.ctx.getWebSockets().length;
  }

  /**
   * Answers a WebSocket upgrade the Worker forwarded (naming the user whose
   * token it verified, if any), or refuses it when the session has all the
   * watchers it takes.
   */
  connect(request: Request, capacity: number): Response {
    if (this.sockets >= capacity) {
      return problemResponse(
        "service_unavailable",
        `This session has its ${capacity} live watchers; poll the leaderboard instead.`,
        { "Retry-After": "30" },
      );
    }
    const limit = Number(new URL(request.url).searchParams.get("limit") ?? "50");
    const bidder = request.headers.get(BIDDER_HEADER);
    const userId = bidder === null ? undefined : Number(bidder);
    const [client, server] = Object.values(new WebSocketPair());
    if (!client || !server) throw new Error("WebSocketPair gave no sockets");
    this.accept(server, limit, userId);
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: userId === undefined ? {} : { "Sec-WebSocket-Protocol": "bearer" },
    });
  }

  /**
   * What a stored batch of bids changed for the watchers: the board when a
   * bid reached the visible top, the end when a soft close moved it, and (at
   * once, not coalesced) each displaced winner's own sockets.
   */
  tellBatch(
    ranks: readonly number[],
    extension: { endsAt: string; extensions: number } | null,
    outbid: readonly Displaced[],
  ): void {
    if (ranks.some((rank) => rank <= MAX_LIVE_DEPTH)) this.changed();
    if (extension) this.broadcast({ type: "extended", ...extension, serverTime: new Date().toISOString() });
    for (const { userId, amount, rank } of outbid) this.sendToUser(userId, { type: "outbid", amount, rank });
  }

  /** Takes over a new socket (tagged with its user when authenticated) and sends it the board at once. */
  private accept(socket: WebSocket, limit: number, userId?: number): void {
    this.ctx.acceptWebSocket(socket, userId === undefined ? [] : [userTag(userId)]);
    const attachment: SocketAttachment = userId === undefined ? { limit } : { limit, userId };
    socket.serializeAttachment(attachment);
    this.send(socket, { type: "leaderboard", ...this.boardOf(limit) });
  }

  /** A message for one user, sent at once to that user's sockets only (found by tag, not by scanning). */
  sendToUser(userId: number, message: LiveMessage): void {
    const sockets = this.ctx.getWebSockets(userTag(userId));
    if (sockets.length === 0) return;
    const text = JSON.stringify(message);
    for (const socket of sockets) {
      try {
        socket.send(text);
      } catch {
        // A socket closing under us; the runtime tells webSocketClose.
      }
    }
  }

  /** The visible top changed: every socket gets the new board within 250 ms. */
  changed(): void {
    this.version += 1;
    if (this.timer === undefined) this.timer = setTimeout(() => this.sendDueBoards(), 0);
  }

  /** Tells every socket at once, not coalesced: a countdown must not wait for the next board. */
  broadcast(message: LiveMessage): void {
    const text = JSON.stringify(message);
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(text);
      } catch {
        // A socket closing under us; the runtime tells webSocketClose.
      }
    }
  }

  /**
   * Sends the final board, the results, `won` or `lost` to authenticated
   * sockets, and `status: ended`, then closes every socket normally.
   */
  announceEnd(results: Results | null): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.round = undefined;
    const result =
      results === null ? null : JSON.stringify({ type: "result", ...results } satisfies LiveMessage);
    for (const socket of this.ctx.getWebSockets()) {
      try {
        const { limit, userId } = attachmentOf(socket);
        socket.send(JSON.stringify({ type: "leaderboard", ...this.boardOf(limit) }));
        if (result !== null) socket.send(result);
        if (results !== null && userId !== undefined)
          socket.send(JSON.stringify(verdictFor(results, userId)));
        socket.send(JSON.stringify({ type: "status", status: "ended" } satisfies LiveMessage));
        socket.close(1000, "session ended");
      } catch {
        // Already closing: nothing to tell it.
      }
    }
  }

  private sendDueBoards(): void {
    this.timer = undefined;
    const now = Date.now();
    this.round ??= {
      sockets: this.ctx.getWebSockets(),
      next: 0,
      nextDueAt: Number.POSITIVE_INFINITY,
      startedAt: now,
      version: this.version,
    };
    const round = this.round;
    const boards = new Map<number, string>();
    let sent = 0;
    while (round.next < round.sockets.length && sent < SOCKETS_PER_TURN) {
      const socket = round.sockets[round.next++];
      if (!socket) continue;
      const last = this.lastSent.get(socket) ?? { at: 0, version: -1 };
      if (last.version >= this.version) continue;
      const dueAt = last.at + LIVE_INTERVAL_MS;
      if (dueAt > now) {
        round.nextDueAt = Math.min(round.nextDueAt, dueAt);
        continue;
      }
      const { limit } = attachmentOf(socket);
      let message = boards.get(limit);
      if (message === undefined) {
        message = JSON.stringify({ type: "leaderboard", ...this.boardOf(limit) } satisfies LiveMessage);
        boards.set(limit, message);
      }
      this.sendRaw(socket, message, now);
      sent += 1;
    }
    if (round.next < round.sockets.length) {
      this.timer = setTimeout(() => this.sendDueBoards(), 0);
      return;
    }
    this.round = undefined;
    // Sockets this round already passed have not seen a change made during it.
    if (this.version !== round.version) {
      round.nextDueAt = Math.min(round.nextDueAt, round.startedAt + LIVE_INTERVAL_MS);
    }
    if (Number.isFinite(round.nextDueAt)) {
      this.timer = setTimeout(() => this.sendDueBoards(), Math.max(0, round.nextDueAt - now));
    }
  }

  private send(socket: WebSocket, message: LiveMessage): void {
    this.sendRaw(socket, JSON.stringify(message), Date.now());
  }

  private sendRaw(socket: WebSocket, message: string, now: number): void {
    try {
      socket.send(message);
      this.lastSent.set(socket, { at: now, version: this.version });
    } catch {
      // A socket closing under us; the runtime tells webSocketClose.
    }
  }
}
