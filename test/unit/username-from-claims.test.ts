import { describe, expect, it } from "vitest";
import {
  normaliseUsername,
  usernameFromClaims,
  withRandomSuffix,
} from "../../src/users/username-from-claims";

const USERNAME_RULES = /^[A-Za-z0-9_.-]{3,32}$/;

describe("usernameFromClaims", () => {
  it.each([
    [
      "preferred_username first",
      { preferred_username: "ada", nickname: "a", name: "Ada L", email: "x@y" },
      "ada",
    ],
    ["then nickname", { nickname: "lovelace", name: "Ada L", email: "x@y.test" }, "lovelace"],
    ["then name", { name: "Ada Lovelace", email: "ada@example.test" }, "Ada_Lovelace"],
    ["then the email's local part", { email: "ada.l+bids@example.test" }, "ada.l_bids"],
    ["the local part ends at the last @", { email: '"a@b"@example.test' }, "_a_b_"],
    ["else 'user'", {}, "user"],
    ["a blank claim is passed over", { preferred_username: "  ", nickname: "nick" }, "nick"],
    ["a claim that is not a string is passed over", { preferred_username: 42, name: "Bo" }, "Bo_"],
    ["an email without @ is passed over", { email: "nobody" }, "user"],
  ])("%s", (_label, claims, expected) => {
    expect(usernameFromClaims(claims)).toBe(expected);
  });
});

describe("normaliseUsername", () => {
  it.each([
    ["keeps a valid name", "alice_01.x-y", "alice_01.x-y"],
    ["replaces each other character with _", "José Ñ", "Jos___"],
    ["one _ per character, even outside the BMP", "😀😀ab", "__ab"],
    ["control characters too", "a\u0000b\nc", "a_b_c"],
    ["trims surrounding spaces first", "  bob  ", "bob"],
    ["cuts to 24 so a suffix fits", "a".repeat(40), "a".repeat(24)],
    ["pads with _ to 3", "x", "x__"],
    ["all replaced still makes a name", "名前", "___"],
  ])("%s", (_label, name, expected) => {
    const normalised = normaliseUsername(name);
    expect(normalised).toBe(expected);
    expect(normalised).toMatch(USERNAME_RULES);
  });
});

describe("withRandomSuffix", () => {
  it("adds _ and six letters or digits, within the username rules even from the longest base", () => {
    const base = "b".repeat(24);
    const names = new Set(Array.from({ length: 50 }, () => withRandomSuffix(base)));
    for (const name of names) {
      expect(name).toMatch(/^b{24}_[a-z0-9]{6}$/);
      expect(name).toMatch(USERNAME_RULES);
    }
    expect(names.size).toBe(50);
  });
});
