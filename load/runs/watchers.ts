// WebSocket watchers on a session's live leaderboard (GET /v1/sessions/{id}/live), for `npm run
// load -- --watchers N`. The sockets live in a worker thread (watcher-thread.ts): every watcher
// counts its messages; a few sampled ones also report each board's seq and arrival time. Here,
// in the main thread where the bids are timed, each acknowledged bid gets its delay: the arrival
// of the first board whose seq is at least the bid's, minus the arrival of its 201, and minus the
// moment the object accepted it (the receipt's placedAt: same machine, same clock).
//
// The server sends a board only when its top changes, so a bid that lands below the top waits
// for the next bid that does not: its delay measures how stale the board is, not the fan-out.
// The fan-out delay proper is that of the bids whose receipt ranks them within the watchers'
// board (rank <= limit); both are reported. With signed-in watchers, outbid-delays.ts times
// each user's outbid messages against the bids that displaced them.
import { EventEmitter, once } from "node:events";
import { Worker } from "node:worker_threads";
import type { BidReceipt } from "../kit/api.js";
import { type LatencySummary, summarize } from "../kit/report.js";
import { OutbidDelays, type OutbidTotals } from "./outbid-delays.js";
import { type FromThread, FromThreadSchema, type ThreadPlan, type ToThread } from "./watcher-protocol.js";

export interface WatchersPlan {
  url: URL;
  sessionId: string;
  count: number;
  /**
   * How many of the watchers measure the delay, spread over the order they connect in (the
   * first and the last among them): the object sends to its sockets one after another.
   */
  sampled: number;
  limit: number;
  /** Watcher i signs in as `users[i]` and is told when that user is outbid; the rest are anonymous. */
  users: readonly { id: number; token: string }[];
}

export interface WatchersSecond {
  /** Messages received by all watchers in the second. */
  messages: number;
  open: number;
  /** 201 to board, resolved in the second over the sampled watchers, of bids ranked within the board. */
  delay: LatencySummary;
}

export interface WatchersTotals {
  requested: number;
  opened: number;
  connectFailures: number;
  connectMs: number;
  /** Sockets that closed before the end of the run. */
  closedEarly: number;
  messages: number;
  /** Messages per watcher (those that opened): min, median, max. */
  perWatcher: { min: number; p50: number; max: number };
  sampled: number;
  /**
   * One value per (sampled watcher, acknowledged bid ranked within the board when accepted):
   * the board's arrival minus the 201's. Negative when the board arrived first.
   */
  delayMs: LatencySummary;
  /** The same bids: the board's arrival minus the receipt's placedAt (the object's acceptance). */
  acceptedToBoardMs: LatencySummary;
  /** 201 to board over every acknowledged bid, those ranked below the board included. */
  delayAllBidsMs: LatencySummary;
  /** Each sampled watcher's own figures, by its position in the connection order. */
  perSampled: { index: number; delayMs: LatencySummary; acceptedToBoardMs: LatencySummary }[];
  /** Acknowledged bids a sampled watcher had not been shown by the end (counted once per sampled watcher). */
  unmatched: number;
  /** Boards whose seq was below one received before on the same socket: should be 0. */
  seqRegressions: number;
  /** With signed-in watchers: their outbid messages against the bids that displaced them. */
  outbid?: OutbidTotals;
}

const CONNECT_WAIT_MS = 200_000;
const TOTALS_WAIT_MS = 15_000;

interface AcknowledgedAt {
  seq: number;
  /** Epoch ms when the 201 arrived. */
  at: number;
  /** Epoch ms when the object accepted the bid. */
  placedAt: number;
  /** Ranked within the watchers' board when accepted. */
  onBoard: boolean;
}

/** The first index in ascending `values` whose value is >= target, or values.length. */
function firstAtLeast(values: readonly number[], target: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((values[middle] ?? Number.POSITIVE_INFINITY) >= target) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** One sampled watcher: the boards it received, and the acknowledged bids it has not seen yet. */
class DelaySampler {
  readonly fromAck: number[] = [];
  readonly fromAccept: number[] = [];
  readonly fromAckAllBids: number[] = [];
  /** Highest seq seen up to each board (ascending even if a board went backwards), and when. */
  private readonly seenSeq: number[] = [];
  private readonly seenAt: number[] = [];
  /** Acknowledged bids not yet shown: few, since the next board usually shows them. */
  private waiting: AcknowledgedAt[] = [];
  seqRegressions = 0;

  constructor(
    readonly index: number,
    private readonly onBoardDelay: (fromAck: number) => void,
  ) {}

  board(seq: number, at: number): void {
    const highest = this.seenSeq.at(-1) ?? Number.NEGATIVE_INFINITY;
    if (seq < highest) this.seqRegressions += 1;
    this.seenSeq.push(Math.max(seq, highest));
    this.seenAt.push(at);
    for (const ack of this.waiting) if (ack.seq <= seq) this.shown(ack, at);
    this.waiting = this.waiting.filter((ack) => ack.seq > seq);
  }

  acknowledged(ack: AcknowledgedAt): void {
    const seenAt = this.seenAt[firstAtLeast(this.seenSeq, ack.seq)];
    if (seenAt === undefined) this.waiting.push(ack);
    else this.shown(ack, seenAt);
  }

  private shown(ack: AcknowledgedAt, boardAt: number): void {
    this.fromAckAllBids.push(boardAt - ack.at);
    if (!ack.onBoard) return;
    this.fromAck.push(boardAt - ack.at);
    this.fromAccept.push(boardAt - ack.placedAt);
    this.onBoardDelay(boardAt - ack.at);
  }

  get unmatched(): number {
    return this.waiting.length;
  }
}

export class LiveWatchers {
  private readonly samplers = new Map<number, DelaySampler>();
  /** Set once the sockets opened: only the users whose signed-in socket did can be told. */
  private outbid: OutbidDelays | undefined;
  private worker: Worker | undefined;
  private connected: { opened: number; failed: number; ms: number } | undefined;
  private totalsFromThread: Extract<FromThread, { type: "totals" }> | undefined;
  private delaysInSecond: number[] = [];
  private messages = 0;
  private messagesInSecond = 0;
  private open = 0;
  /** Emits each message's type as it arrives, and `exit` when the thread ends. */
  private readonly arrivals = new EventEmitter();

  constructor(private readonly plan: WatchersPlan) {
    const k = Math.min(plan.sampled, plan.count);
    for (let i = 0; i < k; i++) {
      const index = k === 1 ? 0 : Math.round((i * (plan.count - 1)) / (k - 1));
      this.samplers.set(index, new DelaySampler(index, (ms) => this.delaysInSecond.push(ms)));
    }
  }

  /** Starts the thread and opens the sockets; resolves when every one opened or failed. */
  async connect(): Promise<{ opened: number; failed: number; ms: number }> {
    const threadPlan: ThreadPlan = {
      url: this.plan.url.origin,
      sessionId: this.plan.sessionId,
      count: this.plan.count,
      limit: this.plan.limit,
      sampledIndexes: [...this.samplers.keys()],
      users: this.plan.users.slice(0, this.plan.count).map(({ id, token }) => ({ id, token })),
    };
    // Under tsx the thread needs the same loader as this one.
    const worker = new Worker(new URL("./watcher-thread.ts", import.meta.url), {
      workerData: threadPlan,
      execArgv: [...process.execArgv],
    });
    this.worker = worker;
    // The run's own work keeps the process alive; a run that fails part-way must not wait for the thread.
    worker.unref();
    worker.on("message", (raw: unknown) => {
      const message = FromThreadSchema.safeParse(raw);
      if (message.success) this.receive(message.data);
    });
    worker.on("error", (error) => console.error(`watchers: the watcher thread failed: ${error.message}`));
    worker.on("exit", () => this.arrivals.emit("exit"));
    await this.arrival("connected", CONNECT_WAIT_MS);
    return this.connected ?? { opened: 0, failed: this.plan.count, ms: CONNECT_WAIT_MS };
  }

  private receive(message: FromThread): void {
    switch (message.type) {
      case "connected":
        this.connected = { opened: message.opened, failed: message.failed, ms: message.ms };
        this.open = message.opened;
        if (this.plan.users.length > 0) this.outbid = new OutbidDelays(new Set(message.signedIn));
        break;
      case "board":
        this.samplers.get(message.index)?.board(message.seq, message.at);
        break;
      case "outbid":
        this.outbid?.outbid(message.userId, message.amount, message.at);
        break;
      case "tick":
        this.messages += message.messages;
        this.messagesInSecond += message.messages;
        this.open = message.open;
        break;
      case "totals":
        this.messages += message.lastTick;
        this.totalsFromThread = message;
        break;
    }
    this.arrivals.emit(message.type);
  }

  /** Resolves when a `type` message arrives, the thread ends, or `timeoutMs` passes. */
  private async arrival(type: FromThread["type"], timeoutMs: number): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    const ended = [once(this.arrivals, type, { signal }), once(this.arrivals, "exit", { signal })];
    await Promise.race(ended).catch(() => {});
  }

  /** A bid's 201 arrived just now with this receipt (a BidLedger's onAcknowledged). */
  readonly acknowledged = (receipt: BidReceipt, replayed: boolean): void => {
    const at = performance.timeOrigin + performance.now();
    // A replay is the same bid as a first 201 that may have been lost: the outbid replay needs it.
    this.outbid?.acknowledged(receipt, at);
    // For the boards it repeats the first answer's seq: nothing new to show.
    if (replayed) return;
    const ack = {
      seq: receipt.seq,
      at,
      placedAt: Date.parse(receipt.placedAt),
      onBoard: receipt.rank <= this.plan.limit,
    };
    for (const sampler of this.samplers.values()) sampler.acknowledged(ack);
  };

  takeSecond(): WatchersSecond {
    const sample = {
      messages: this.messagesInSecond,
      open: this.open,
      delay: summarize(this.delaysInSecond),
    };
    this.messagesInSecond = 0;
    this.delaysInSecond = [];
    return sample;
  }

  /** Waits `graceMs` for the boards that show the last bids, then closes every socket and the thread. */
  async finish(graceMs: number): Promise<WatchersTotals> {
    await new Promise((resolve) => setTimeout(resolve, graceMs));
    const finish: ToThread = { type: "finish" };
    this.worker?.postMessage(finish);
    await this.arrival("totals", TOTALS_WAIT_MS);
    await this.worker?.terminate();
    const thread = this.totalsFromThread;
    const counts = thread?.perWatcher ?? [];
    const perWatcher = summarize(counts);
    const samplers = [...this.samplers.values()].sort((a, b) => a.index - b.index);
    const all = (pick: (s: DelaySampler) => number[]) => summarize(samplers.flatMap(pick));
    return {
      requested: this.plan.count,
      opened: this.connected?.opened ?? 0,
      connectFailures: this.connected?.failed ?? this.plan.count,
      connectMs: this.connected?.ms ?? 0,
      closedEarly: thread?.closedEarly ?? 0,
      messages: this.messages,
      perWatcher: {
        min: counts.length === 0 ? 0 : Math.min(...counts),
        p50: perWatcher.p50,
        max: perWatcher.max,
      },
      sampled: samplers.length,
      delayMs: all((s) => s.fromAck),
      acceptedToBoardMs: all((s) => s.fromAccept),
      delayAllBidsMs: all((s) => s.fromAckAllBids),
      perSampled: samplers.map((s) => ({
        index: s.index,
        delayMs: summarize(s.fromAck),
        acceptedToBoardMs: summarize(s.fromAccept),
      })),
      unmatched: samplers.reduce((sum, s) => sum + s.unmatched, 0),
      seqRegressions: samplers.reduce((sum, s) => sum + s.seqRegressions, 0),
      ...(this.outbid ? { outbid: this.outbid.totals() } : {}),
    };
  }
}
