import { describe, expect, it } from "vitest";
import { RecentIdentities } from "../../src/users/recent-identities";

const alice = { issuer: "https://issuer.test/", subject: "auth0|alice" };
const bob = { issuer: "https://issuer.test/", subject: "auth0|bob" };

describe("RecentIdentities", () => {
  it("answers fresh within the recheck interval, then stale but still with the user", () => {
    const recent = new RecentIdentities(10, 60_000);
    recent.remember(alice, 7, 1_000);
    expect(recent.recall(alice, 60_999)).toEqual({ userId: 7, fresh: true });
    expect(recent.recall(alice, 61_000)).toEqual({ userId: 7, fresh: false });
    recent.remember(alice, 7, 61_000);
    expect(recent.recall(alice, 61_001)).toEqual({ userId: 7, fresh: true });
  });

  it("keeps issuer and subject apart, whatever characters they hold", () => {
    const recent = new RecentIdentities(10, 60_000);
    recent.remember({ issuer: "a|b", subject: "c" }, 1, 0);
    expect(recent.recall({ issuer: "a", subject: "b|c" }, 0)).toBeUndefined();
    recent.remember({ issuer: "a", subject: '","' }, 2, 0);
    expect(recent.recall({ issuer: 'a","', subject: "" }, 0)).toBeUndefined();
  });

  it("lets the least recently used go past its capacity", () => {
    const recent = new RecentIdentities(2, 60_000);
    recent.remember(alice, 1, 0);
    recent.remember(bob, 2, 0);
    recent.recall(alice, 0);
    recent.remember({ issuer: "x", subject: "carol" }, 3, 0);
    expect(recent.size).toBe(2);
    expect(recent.recall(bob, 0)).toBeUndefined();
    expect(recent.recall(alice, 0)?.userId).toBe(1);
  });

  it("forgets an identity at once", () => {
    const recent = new RecentIdentities(10, 60_000);
    recent.remember(alice, 1, 0);
    recent.forget(alice);
    expect(recent.recall(alice, 0)).toBeUndefined();
  });
});
