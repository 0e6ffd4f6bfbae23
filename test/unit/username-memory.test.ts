import { describe, expect, it } from "vitest";
import { recallUsernames, rememberUsernames } from "../../src/users/username-memory";

describe("the isolate's memory of usernames", () => {
  it("recalls the names it was told and nothing else", () => {
    rememberUsernames(
      new Map([
        [1, "ann"],
        [2, "bob"],
      ]),
    );
    expect(recallUsernames([1, 2, 3])).toEqual(
      new Map([
        [1, "ann"],
        [2, "bob"],
      ]),
    );
  });

  it("keeps the names seen last when it is full", () => {
    rememberUsernames(new Map([[1, "ann"]]));
    rememberUsernames(new Map(Array.from({ length: 100_000 }, (_, i) => [1_000 + i, `user${i}`])));
    // Seen again just now: kept, while the oldest of the crowd made room for it.
    rememberUsernames(new Map([[1, "ann"]]));
    expect(recallUsernames([1, 1_000, 1_001, 100_999])).toEqual(
      new Map([
        [1, "ann"],
        [1_001, "user1"],
        [100_999, "user99999"],
      ]),
    );
  });
});
