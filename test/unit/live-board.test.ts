import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { LiveLeaderboard } from "../../src/api/session-protocol";
import { LiveBoard } from "../../src/objects/live-board";

// The board's scheduling with hundreds of sockets. The workerd tests cap a
// session at 8 sockets, so here the runtime's sockets and getWebSockets are
// stand-ins that record what was sent and when (fake timers drive the clock).

interface Sent {
  at: number;
  seq: number;
}

function fakeSocket(log: Sent[]) {
  return {
    send(text: string) {
      log.push({ at: Date.now(), seq: (JSON.parse(text) as { seq: number }).seq });
    },
    deserializeAttachment: () => ({ limit: 50 }),
    serializeAttachment: () => {},
  };
}

function boardWith(count: number) {
  let seq = 0;
  const logs = Array.from({ length: count }, (): Sent[] => []);
  const sockets = logs.map(fakeSocket);
  const ctx = {
    getWebSockets: () => sockets,
    acceptWebSocket: () => {},
  } as unknown as DurableObjectState;
  const board = new LiveBoard(
    ctx,
    (): LiveLeaderboard => ({
      sessionId: "s",
      status: "active",
      asOf: "",
      total: seq,
      seq,
      entries: [],
      headHash: null,
    }),
  );
  const bid = () => {
    seq += 1;
    board.changed();
  };
  return { logs, bid, seq: () => seq };
}

describe("LiveBoard with many sockets", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse("2026-12-01T12:00:00.000Z"));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends a round of boards a chunk per turn, so the object is free between chunks", async () => {
    const { logs, bid } = boardWith(250);
    bid();
    const sentAfterTurns = [];
    for (let turn = 0; turn < 3; turn++) {
      await vi.advanceTimersToNextTimerAsync();
      sentAfterTurns.push(logs.filter((log) => log.length > 0).length);
    }
    expect(sentAfterTurns).toEqual([100, 200, 250]);
  });

  it("brings a change made during a round to the sockets the round already passed, never two boards within 250 ms", async () => {
    const { logs, bid, seq } = boardWith(250);
    bid();
    await vi.advanceTimersToNextTimerAsync(); // the first chunk has its board
    bid(); // the chunks still to come send this one; the first chunk has not seen it
    await vi.advanceTimersByTimeAsync(2_000);
    for (const log of logs) {
      expect(log.at(-1)?.seq).toBe(seq());
      for (let i = 1; i < log.length; i++) {
        expect((log[i]?.at ?? 0) - (log[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(250);
      }
    }
    const firstChunk = logs.slice(0, 100).map((log) => log.map((sent) => sent.seq));
    expect(new Set(firstChunk.map((seqs) => seqs.join()))).toEqual(new Set(["1,2"]));
  });
});
