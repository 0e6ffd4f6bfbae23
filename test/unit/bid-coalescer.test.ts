import { describe, expect, it } from "vitest";
import type { BidRequest, Outcome, PlacedBid } from "../../src/api/session-protocol";
import { BidCoalescer, type SendBids } from "../../src/session-client/bid-coalescer";

/** A request's waitUntil: what it was asked to keep alive. */
function requestContext() {
  const kept: Promise<unknown>[] = [];
  return { waitUntil: (promise: Promise<unknown>) => void kept.push(promise), kept };
}

const accepted = (request: BidRequest): Outcome<PlacedBid> => ({
  ok: true,
  value: {
    receipt: {
      sessionId: "s",
      userId: request.userId,
      amount: request.amount ?? 0,
      rank: 1,
      placedAt: "2026-12-04T00:00:00.000Z",
      seq: request.userId,
      maxAmount: null,
      bidder: "Bidder 00000000",
      hash: null,
    },
    replayed: false,
  },
});

/** An object that answers each call when the test says so, and records the calls. */
function fakeObject(settled?: Promise<void>) {
  const calls: { requests: BidRequest[]; answer: () => void; fail: () => void }[] = [];
  const send: SendBids = (requests) =>
    new Promise((resolve, reject) => {
      calls.push({
        requests,
        answer: () => resolve({ outcomes: requests.map(accepted), settled }),
        fail: () => reject(new Error("gone")),
      });
    });
  return { calls, send };
}

const bid = (userId: number): BidRequest => ({ userId, amount: 100 + userId, requestId: `r${userId}` });
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("BidCoalescer", () => {
  it("sends the bids that wait together in one call, one call in flight per session", async () => {
    const coalescer = new BidCoalescer();
    const object = fakeObject();
    const first = coalescer.place(requestContext(), "s", bid(1), object.send);
    await tick();
    // While the first call is out, three more arrive: they form the next call.
    const later = [2, 3, 4].map((u) => coalescer.place(requestContext(), "s", bid(u), object.send));
    await tick();
    expect(object.calls.map((c) => c.requests.map((r) => r.userId))).toEqual([[1]]);
    object.calls[0]?.answer();
    expect(await first).toMatchObject({ ok: true, value: { receipt: { userId: 1 } } });
    await tick();
    expect(object.calls.map((c) => c.requests.map((r) => r.userId))).toEqual([[1], [2, 3, 4]]);
    object.calls[1]?.answer();
    const answers = await Promise.all(later);
    expect(answers.map((a) => (a?.ok ? a.value.receipt.userId : null))).toEqual([2, 3, 4]);
  });

  it("makes the next call as soon as a call returns, while that call's bids still wait for what they settle", async () => {
    const coalescer = new BidCoalescer();
    let settle = () => {};
    const object = fakeObject(new Promise<void>((resolve) => (settle = resolve)));
    let firstAnswered = false;
    const first = coalescer.place(requestContext(), "s", bid(1), object.send).then((answer) => {
      firstAnswered = true;
      return answer;
    });
    await tick();
    const second = coalescer.place(requestContext(), "s", bid(2), object.send);
    object.calls[0]?.answer();
    await tick();
    await tick();
    expect(object.calls.map((c) => c.requests.map((r) => r.userId))).toEqual([[1], [2]]);
    expect(firstAnswered).toBe(false);
    settle();
    expect(await first).toMatchObject({ ok: true, value: { receipt: { userId: 1 } } });
    object.calls[1]?.answer();
    expect(await second).toMatchObject({ ok: true, value: { receipt: { userId: 2 } } });
  });

  it("makes the next call in a waiting request of its own, never in the finished one's", async () => {
    const coalescer = new BidCoalescer();
    const object = fakeObject();
    const leader = requestContext();
    const follower = requestContext();
    const first = coalescer.place(leader, "s", bid(1), object.send);
    await tick();
    const second = coalescer.place(follower, "s", bid(2), object.send);
    object.calls[0]?.answer();
    await first;
    await tick();
    expect(leader.kept).toHaveLength(1);
    expect(follower.kept).toHaveLength(1);
    object.calls[1]?.answer();
    expect(await second).toMatchObject({ ok: true });
  });

  it("keeps sessions apart", async () => {
    const coalescer = new BidCoalescer();
    const object = fakeObject();
    const a = coalescer.place(requestContext(), "a", bid(1), object.send);
    const b = coalescer.place(requestContext(), "b", bid(2), object.send);
    await tick();
    expect(object.calls).toHaveLength(2);
    for (const call of object.calls) call.answer();
    expect((await Promise.all([a, b])).every((o) => o?.ok)).toBe(true);
  });

  it("leaves every bid of a failed call to be sent alone, and the next call still goes", async () => {
    const coalescer = new BidCoalescer();
    const object = fakeObject();
    const first = coalescer.place(requestContext(), "s", bid(1), object.send);
    await tick();
    const second = coalescer.place(requestContext(), "s", bid(2), object.send);
    object.calls[0]?.fail();
    expect(await first).toBeUndefined();
    await tick();
    object.calls[1]?.answer();
    expect(await second).toMatchObject({ ok: true });
  });

  it("lets a bid whose call never returns go alone after the wait, and a stalled call does not hold the queue", async () => {
    const coalescer = new BidCoalescer(50);
    const object = fakeObject();
    const stuck = coalescer.place(requestContext(), "s", bid(1), object.send);
    expect(await stuck).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 60));
    const next = coalescer.place(requestContext(), "s", bid(2), object.send);
    await tick();
    expect(object.calls.map((c) => c.requests.map((r) => r.userId))).toEqual([[1], [2]]);
    object.calls[1]?.answer();
    expect(await next).toMatchObject({ ok: true });
  });
});
