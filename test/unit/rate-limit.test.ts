import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../src/bidding/rate-limit";

describe("RateLimiter", () => {
  it("allows a burst, then refills at the configured rate, per key", () => {
    const limiter = new RateLimiter(2, 3);
    expect([0, 0, 0].map(() => limiter.take(1, 0))).toEqual([0, 0, 0]);
    expect(limiter.take(1, 0)).toBe(1);
    expect(limiter.take(2, 0)).toBe(0);
    expect(limiter.take(1, 500)).toBe(0); // one token back after 1/2 s
    expect(limiter.take(1, 500)).toBeGreaterThan(0);
  });
});
