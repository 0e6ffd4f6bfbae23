import { afterEach, describe, expect, it, vi } from "vitest";
import { BidBatcher } from "../../src/objects/bid-batcher";
import type { BidRequest, Outcome, PlacedBid } from "../../src/objects/protocol";

const accepted = (request: BidRequest): Outcome<PlacedBid> => ({
  ok: true,
  value: {
    receipt: {
      sessionId: "s",
      userId: request.userId,
      amount: request.amount ?? 0,
      rank: 1,
      placedAt: new Date(0).toISOString(),
      seq: request.amount ?? 0,
      maxAmount: null,
    },
    replayed: false,
  },
});

/** An object stand-in that answers each call when told to, recording what it was sent. */
function controlledObject() {
  const calls: { requests: BidRequest[]; answer: () => void; fail: (error: Error) => void }[] = [];
  const send = (requests: BidRequest[]) =>
    new Promise<Outcome<PlacedBid>[]>((resolve, reject) => {
      calls.push({ requests, answer: () => resolve(requests.map(accepted)), fail: reject });
    });
  return { calls, send };
}

const keepAlive = () => {};
const bid = (userId: number, amount: number): BidRequest => ({ userId, amount });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("BidBatcher", () => {
  afterEach(() => vi.useRealTimers());

  it("sends a lone bid at once, and bids arriving meanwhile together in the next call, in order", async () => {
    const object = controlledObject();
    const batcher = new BidBatcher(object.send);
    const first = batcher.place(bid(1, 100), keepAlive);
    await tick();
    expect(object.calls.map((c) => c.requests.length)).toEqual([1]);

    const rest = [bid(2, 200), bid(3, 300), bid(2, 210)].map((b) => batcher.place(b, keepAlive));
    await tick();
    expect(object.calls).toHaveLength(1);
    object.calls[0]?.answer();
    expect((await first).ok).toBe(true);
    await tick();
    expect(object.calls[1]?.requests.map((r) => [r.userId, r.amount])).toEqual([
      [2, 200],
      [3, 300],
      [2, 210],
    ]);
    object.calls[1]?.answer();
    const outcomes = await Promise.all(rest);
    expect(outcomes.map((o) => o.ok && o.value.receipt.amount)).toEqual([200, 300, 210]);
    expect(batcher.idle).toBe(true);
  });

  it("sends a failed batch again with the same request ids, marked as a resend", async () => {
    const object = controlledObject();
    const batcher = new BidBatcher(object.send);
    const placed = [bid(1, 100), bid(2, 200)].map((b) => batcher.place(b, keepAlive));
    await tick();
    object.calls[0]?.fail(new Error("Network connection lost."));
    await tick();
    const [lost, again] = object.calls;
    // The first bid went alone and was lost; it goes again, ahead of the one that queued meanwhile.
    expect(lost?.requests.map((r) => r.userId)).toEqual([1]);
    expect(again?.requests.map((r) => [r.userId, r.requestId, r.resend])).toEqual([
      [1, lost?.requests[0]?.requestId, true],
      [2, expect.any(String), undefined],
    ]);
    again?.answer();
    expect((await Promise.all(placed)).every((o) => o.ok)).toBe(true);
  });

  it("answers 503 after three failed tries", async () => {
    const object = controlledObject();
    const batcher = new BidBatcher(object.send);
    const placed = batcher.place(bid(1, 100), keepAlive);
    for (let i = 0; i < 3; i += 1) {
      await tick();
      object.calls[i]?.fail(new Error("overloaded"));
    }
    expect(await placed).toMatchObject({ ok: false, code: "service_unavailable", retryAfterSeconds: 1 });
    expect(object.calls).toHaveLength(3);
  });

  it("a waiter whose shared call never settles sends its own bid again", async () => {
    vi.useFakeTimers();
    const object = controlledObject();
    const batcher = new BidBatcher(object.send);
    const placed = batcher.place(bid(1, 100), keepAlive);
    await vi.advanceTimersByTimeAsync(0);
    expect(object.calls).toHaveLength(1);
    // The request that carried the call went away with it: no answer ever comes.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(object.calls).toHaveLength(2);
    expect(object.calls[1]?.requests[0]).toMatchObject({
      resend: true,
      requestId: object.calls[0]?.requests[0]?.requestId,
    });
    object.calls[1]?.answer();
    expect((await placed).ok).toBe(true);
  });
});
