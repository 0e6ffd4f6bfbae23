import { describe, expect, it } from "vitest";
import { Ranking } from "../../src/bidding/ranking";

const bid = (userId: number, amount: number, seq: number) => ({
  userId,
  amount,
  seq,
  tieSeq: seq,
  placedAt: seq,
});

describe("Ranking", () => {
  it("orders by amount, then by who reached the amount first", () => {
    const ranking = new Ranking();
    ranking.place(bid(1, 100, 1));
    ranking.place(bid(2, 300, 2));
    ranking.place(bid(3, 300, 3));
    ranking.place(bid(4, 200, 4));
    expect(ranking.top(10).map((b) => b.userId)).toEqual([2, 3, 4, 1]);
    expect(ranking.rankOf(3)).toBe(2);
    expect(ranking.highest?.amount).toBe(300);
  });

  it("moves a user when they raise and keeps one entry per user", () => {
    const ranking = new Ranking();
    ranking.place(bid(1, 100, 1));
    ranking.place(bid(2, 200, 2));
    expect(ranking.place(bid(1, 200, 3))).toBe(2); // tie: user 2 reached 200 first
    expect(ranking.place(bid(1, 250, 4))).toBe(1);
    expect(ranking.size).toBe(2);
    expect(ranking.top(1)[0]?.userId).toBe(1);
  });

  it("keeps top() equal to a full sort after many random raises", () => {
    const ranking = new Ranking();
    const live = new Map<number, ReturnType<typeof bid>>();
    let seq = 0;
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 3_000; i++) {
      const userId = 1 + Math.floor(random() * 200);
      const amount = (live.get(userId)?.amount ?? 0) + 1 + Math.floor(random() * 5);
      const next = bid(userId, amount, ++seq);
      live.set(userId, next);
      ranking.place(next);
    }
    const expected = [...live.values()].sort((a, b) => b.amount - a.amount || a.seq - b.seq);
    expect(ranking.top(500)).toEqual(expected);
  });

  it("answers every move's rank as a full sort would, lower amounts too (an undo puts one back)", () => {
    const ranking = new Ranking();
    const live = new Map<number, ReturnType<typeof bid>>();
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    for (let seq = 1; seq <= 2_000; seq++) {
      const next = bid(1 + random(50), 1 + random(40), seq);
      live.set(next.userId, next);
      const sorted = [...live.values()].sort((a, b) => b.amount - a.amount || a.seq - b.seq);
      expect(ranking.place(next)).toBe(sorted.indexOf(next) + 1);
      expect(ranking.top(50)).toEqual(sorted);
    }
  });
});
