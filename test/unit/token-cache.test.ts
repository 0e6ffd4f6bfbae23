import { describe, expect, it } from "vitest";
import { TokenCache } from "../../src/http/token-cache";

describe("TokenCache", () => {
  it("answers a remembered token until its exp, and never from exp on", () => {
    const cache = new TokenCache<string>(10);
    cache.set("t", { value: "alice", exp: 100 });
    expect(cache.get("t", 99)).toBe("alice");
    expect(cache.get("t", 100)).toBeUndefined();
    // Gone for good: a clock that steps back does not bring it back.
    expect(cache.get("t", 50)).toBeUndefined();
  });

  it("re-checks nbf on every hit", () => {
    const cache = new TokenCache<string>(10);
    cache.set("t", { value: "alice", exp: 100, nbf: 20 });
    expect(cache.get("t", 19)).toBeUndefined();
    cache.set("t", { value: "alice", exp: 100, nbf: 20 });
    expect(cache.get("t", 20)).toBe("alice");
  });

  it("keys by the exact token text", () => {
    const cache = new TokenCache<string>(10);
    cache.set("a.b.c", { value: "alice", exp: 100 });
    expect(cache.get("a.b.c ", 1)).toBeUndefined();
    expect(cache.get("a.b.C", 1)).toBeUndefined();
  });

  it("holds at most its capacity, dropping the least recently used", () => {
    const cache = new TokenCache<number>(3);
    for (const n of [1, 2, 3]) cache.set(`t${n}`, { value: n, exp: 100 });
    expect(cache.get("t1", 0)).toBe(1); // t2 is now the oldest
    cache.set("t4", { value: 4, exp: 100 });
    expect(cache.size).toBe(3);
    expect(cache.get("t2", 0)).toBeUndefined();
    expect([cache.get("t1", 0), cache.get("t3", 0), cache.get("t4", 0)]).toEqual([1, 3, 4]);
  });
});
