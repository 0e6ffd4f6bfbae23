import { describe, expect, it } from "vitest";
import { recentFirstBidsOf } from "../../src/users/recent-first-bids";

// No cache configured: the isolate's memory stands in (the quick start's embedded default).
const memory = recentFirstBidsOf({} as Env);
const MINUTE = 60_000;

describe("recent first bids without a cache", () => {
  it("lists a user's sessions newest first, only their own, for 15 minutes", async () => {
    await memory.add("s1", [101, 102], 0);
    await memory.add("s2", [101], MINUTE);
    expect(await memory.of(101, 2 * MINUTE)).toEqual([
      { sessionId: "s2", placedAt: MINUTE },
      { sessionId: "s1", placedAt: 0 },
    ]);
    expect(await memory.of(102, 2 * MINUTE)).toEqual([{ sessionId: "s1", placedAt: 0 }]);
    expect(await memory.of(101, 15 * MINUTE + 1)).toEqual([{ sessionId: "s2", placedAt: MINUTE }]);
    expect(await memory.of(103, 0)).toEqual([]);
  });

  it("keeps a user who bids in session after session to their newest 1,000", async () => {
    for (let i = 0; i < 1_500; i++) await memory.add(`busy-${i}`, [201], i);
    const listed = await memory.of(201, 1_500);
    expect(listed).toHaveLength(1_000);
    expect(listed[0]?.sessionId).toBe("busy-1499");
    expect(listed.at(-1)?.sessionId).toBe("busy-500");
  });
});
