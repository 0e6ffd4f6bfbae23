import { describe, expect, it } from "vitest";
import { endAfterBid, isReserveMet, winnersOf } from "../../src/bidding/auction";

describe("endAfterBid", () => {
  const endsAt = 100_000;
  const hardEndsAt = 1_000_000;
  const rule = { windowSeconds: 60, extendSeconds: 30 };

  it("never moves an end without a soft close", () => {
    expect(endAfterBid(endsAt, 99_999, null, hardEndsAt)).toBe(endsAt);
  });

  it("extends only a bid strictly inside the window", () => {
    // Exactly windowSeconds before the end is outside the window: endsAt - t < windowSeconds is false.
    expect(endAfterBid(endsAt, 40_000, rule, hardEndsAt)).toBe(endsAt);
    expect(endAfterBid(endsAt, 39_000, rule, hardEndsAt)).toBe(endsAt);
    expect(endAfterBid(endsAt, 80_000, rule, hardEndsAt)).toBe(110_000);
    expect(endAfterBid(endsAt, 99_999, rule, hardEndsAt)).toBe(129_999);
    // With an extension longer than the window, the edge shows.
    const long = { windowSeconds: 60, extendSeconds: 90 };
    expect(endAfterBid(endsAt, 40_000, long, hardEndsAt)).toBe(endsAt);
    expect(endAfterBid(endsAt, 40_001, long, hardEndsAt)).toBe(130_001);
  });

  it("never moves the end earlier", () => {
    // Inside the window, but t + extendSeconds is before the end in force: it stays.
    expect(endAfterBid(endsAt, 40_001, rule, hardEndsAt)).toBe(endsAt);
    expect(endAfterBid(endsAt, 70_000, rule, hardEndsAt)).toBe(endsAt);
    expect(endAfterBid(endsAt, 70_001, rule, hardEndsAt)).toBe(100_001);
  });

  it("stops at the hard end", () => {
    expect(endAfterBid(endsAt, 99_000, rule, 105_000)).toBe(105_000);
    expect(endAfterBid(105_000, 104_999, rule, 105_000)).toBe(105_000);
    // A cap exactly where the extension would land changes nothing.
    expect(endAfterBid(endsAt, 90_000, rule, 120_000)).toBe(120_000);
  });

  it("reaches a fixed point in a duel: each bid moves the end to extendSeconds after it", () => {
    const duel = { windowSeconds: 2, extendSeconds: 2 };
    let end = 10_000;
    for (const at of [8_500, 9_900, 11_700, 13_000]) {
      end = endAfterBid(end, at, duel, 1_000_000);
      expect(end).toBe(at + 2_000);
    }
  });
});

describe("isReserveMet", () => {
  it("is true without a reserve, bids or not", () => {
    expect(isReserveMet(null, undefined)).toBe(true);
    expect(isReserveMet(null, 1)).toBe(true);
  });

  it("needs the highest bid at or above the reserve", () => {
    expect(isReserveMet(500, undefined)).toBe(false);
    expect(isReserveMet(500, 499)).toBe(false);
    expect(isReserveMet(500, 500)).toBe(true);
    expect(isReserveMet(500, 501)).toBe(true);
  });
});

describe("winnersOf", () => {
  const board = [400, 300, 250, 240, 100].map((amount, i) => ({ userId: i + 1, amount }));

  it("takes the top units bids, in board order", () => {
    expect(winnersOf(board, 3, null).map((b) => b.userId)).toEqual([1, 2, 3]);
    expect(winnersOf(board, 1, null)).toEqual([board[0]]);
  });

  it("leaves out bids under the reserve, even when fewer than units win", () => {
    expect(winnersOf(board, 3, 250).map((b) => b.amount)).toEqual([400, 300, 250]);
    expect(winnersOf(board, 3, 251).map((b) => b.amount)).toEqual([400, 300]);
    expect(winnersOf(board, 5, 350).map((b) => b.amount)).toEqual([400]);
    expect(winnersOf(board, 5, 401)).toEqual([]);
  });

  it("gives every bid when units exceed the bidders, and nothing without bids", () => {
    expect(winnersOf(board, 1000, null)).toEqual(board);
    expect(winnersOf([], 3, null)).toEqual([]);
    expect(winnersOf([], 3, 100)).toEqual([]);
  });
});
