import { describe, expect, it } from "vitest";
import {
  type ChainedBid,
  firstBrokenLink,
  genesisLink,
  nextLink,
  type ShownLink,
} from "../../src/history/chain";
import { Pseudonyms, pseudonymOf } from "../../src/history/pseudonym";

// The bid log's chain (API.md v1.2, "The bid log"), recomputed the way any client would.

const SESSION = "0b8f3c5e-2f7a-4c61-9d1e-6a1f0e5b9c42";
const AT = "2026-11-27T10:00:00.000Z";

/** These bids with their links, in order, from h0 of `sessionId`. */
function chainOf(sessionId: string, rows: ChainedBid[]): (ChainedBid & { hash: string })[] {
  let link = genesisLink(sessionId);
  return rows.map((row) => {
    link = nextLink(link, row);
    return { ...row, hash: link };
  });
}

const bids: ChainedBid[] = [
  { seq: 1, bidder: "Bidder 7KQ2M9XD", amount: 15_000, placedAt: AT, auto: false },
  { seq: 2, bidder: "Bidder 3ZT8W1QA", amount: 15_100, placedAt: AT, auto: true },
  { seq: 3, bidder: "Bidder 7KQ2M9XD", amount: 16_000, placedAt: "2026-11-27T10:00:01.250Z", auto: false },
];

/** Lowercase hex SHA-256 by WebCrypto, apart from the code under test. */
async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Buffer.from(digest).toString("hex");
}

describe("the bid log's links", () => {
  it("are the contract's strings hashed: known answers from sha256sum", () => {
    // printf 'bidding-session|<id>' | sha256sum, and so on for each link.
    const h0 = "a285c72824bb4858bbf86d4bb11b9099e5aa00c0ed7b39b8da289f36954d8eb2";
    const h1 = "d8b43ccdc27cb9d2c7a920db5ce50cdc0592d332287ffa6ec8aec7c4bbde9ef2";
    const h2 = "7e5375135e212f41c6d7615f7396661a94b9ca8ceb3dce407de5a046efac371d";
    expect(genesisLink(SESSION)).toBe(h0);
    const [first, second] = bids;
    if (!first || !second) throw new Error("bids");
    expect(nextLink(h0, first)).toBe(h1);
    expect(nextLink(h1, second)).toBe(h2);
  });

  it("agree with WebCrypto on every link of a chain", async () => {
    let link = await sha256(`bidding-session|${SESSION}`);
    for (const row of chainOf(SESSION, bids)) {
      link = await sha256(
        `${link}|${row.seq}|${row.bidder}|${row.amount}|${row.placedAt}|${row.auto ? 1 : 0}`,
      );
      expect(row.hash).toBe(link);
    }
  });

  it("differ between two sessions with the same bids", () => {
    const other = "5f1d2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b";
    const ours = chainOf(SESSION, bids).map((row) => row.hash);
    const theirs = chainOf(other, bids).map((row) => row.hash);
    expect(ours.filter((hash, i) => hash === theirs[i])).toEqual([]);
  });

  it("name the first row that was changed after the fact, whichever field it was", () => {
    const chain = chainOf(SESSION, bids);
    const h0 = genesisLink(SESSION);
    expect(firstBrokenLink(h0, chain)).toBeUndefined();
    const changes: Partial<ShownLink>[] = [
      { amount: 15_001 },
      { bidder: "Bidder 00000000" },
      { placedAt: "2026-11-27T10:00:00.001Z" },
      { auto: false },
    ];
    for (const change of changes) {
      const tampered = chain.map((row) => (row.seq === 2 ? { ...row, ...change } : row));
      const broken = firstBrokenLink(h0, tampered);
      expect(broken, JSON.stringify(change)).toMatchObject({ seq: 2, shown: chain[1]?.hash });
      expect(broken?.expected).not.toBe(chain[1]?.hash);
    }
    // A link rewritten to match its changed row breaks the next one instead.
    const [first, second, third] = chain;
    if (!first || !second || !third) throw new Error("chain");
    const forged = { ...second, amount: 1 };
    const rewritten = { ...forged, hash: nextLink(first.hash, forged) };
    expect(firstBrokenLink(h0, [first, rewritten, third])).toMatchObject({ seq: 3, shown: third.hash });
    // A row without a link, or without a pseudonym to recompute it from, does not chain.
    expect(firstBrokenLink(h0, [{ ...first, hash: null }])).toEqual({
      seq: 1,
      shown: null,
      expected: first.hash,
    });
    expect(firstBrokenLink(h0, [{ ...first, bidder: null }])).toEqual({
      seq: 1,
      shown: first.hash,
      expected: null,
    });
  });
});

describe("pseudonyms", () => {
  it("are computed synchronously exactly as the pages computed them with WebCrypto before the bid log", async () => {
    const secret = "a-test-secret";
    const encoder = new TextEncoder();
    const hmac = { name: "HMAC", hash: "SHA-256" } as const;
    const master = await crypto.subtle.importKey("raw", encoder.encode(secret), hmac, false, ["sign"]);
    const label = encoder.encode("edge-bidding-api bidder pseudonym v1");
    const derived = new Uint8Array(await crypto.subtle.sign("HMAC", master, label));
    const key = await crypto.subtle.importKey("raw", derived, hmac, false, ["sign"]);
    const names = new Pseudonyms(secret);
    for (const userId of [1, 42, 1_000_000]) {
      const mac = new Uint8Array(
        await crypto.subtle.sign("HMAC", key, encoder.encode(`${SESSION}:${userId}`)),
      );
      expect(names.of(SESSION, userId)).toBe(pseudonymOf(derived, SESSION, userId));
      expect(names.of(SESSION, userId)).toMatch(/^Bidder [0-9A-HJKMNP-TV-Z]{8}$/);
      // The tag is the MAC's first 40 bits in Crockford's base32.
      const bits = [...mac.slice(0, 5)].map((byte) => byte.toString(2).padStart(8, "0")).join("");
      const tag = Array.from({ length: 8 }, (_, i) =>
        "0123456789ABCDEFGHJKMNPQRSTVWXYZ".charAt(Number.parseInt(bits.slice(i * 5, i * 5 + 5), 2)),
      ).join("");
      expect(names.of(SESSION, userId)).toBe(`Bidder ${tag}`);
    }
  });

  it("refuse to exist without a secret", () => {
    expect(() => new Pseudonyms(undefined).of(SESSION, 1)).toThrow(/JWT_SECRET/);
  });
});
