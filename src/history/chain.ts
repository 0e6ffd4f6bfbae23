import { createHash } from "node:crypto";

/**
 * The bid log (API.md v1.2, "The bid log"): every accepted bid of a session,
 * automatic raises included, is a link of one hash chain, in seq order. Any
 * client can recompute it from the public history alone, so a row changed
 * after the fact shows as a link that does not match.
 *
 *   h0 = sha256hex("bidding-session|<sessionId>")
 *   hn = sha256hex("<h(n-1)>|<n>|<bidder>|<amount>|<placedAt>|<auto 1 or 0>")
 *
 * node:crypto, not WebCrypto: the object computes each link inside its
 * synchronous decision of a batch, before the commit, and subtle.digest is
 * asynchronous.
 */

/** What a link commits to: the bid exactly as the public history shows it. */
export interface ChainedBid {
  seq: number;
  /** The pseudonym fixed when the bid was accepted. */
  bidder: string;
  amount: number;
  /** ISO 8601 with milliseconds, as the history shows it. */
  placedAt: string;
  auto: boolean;
}

const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** h0: the chain's start. The session id in it gives two sessions with the same bids different chains. */
export const genesisLink = (sessionId: string): string => sha256Hex(`bidding-session|${sessionId}`);

/** The link of `bid`, the one after `previous` (the link of seq - 1, or h0). */
export const nextLink = (previous: string, bid: ChainedBid): string =>
  sha256Hex(`${previous}|${bid.seq}|${bid.bidder}|${bid.amount}|${bid.placedAt}|${bid.auto ? 1 : 0}`);

/** A history row as a reader sees it: the pseudonym and link stored with it, null on rows older than the log. */
export interface ShownLink {
  seq: number;
  bidder: string | null;
  amount: number;
  placedAt: string;
  auto: boolean;
  hash: string | null;
}

/** Where a run of rows stops chaining: the link the row shows and the one its fields and the previous link give. */
export interface BrokenLink {
  seq: number;
  shown: string | null;
  /** null when the row has no pseudonym to recompute its link from. */
  expected: string | null;
}

/**
 * The first of `rows` (consecutive seqs following the link `previous`) whose
 * link is not the one recomputed from its fields; undefined when every one
 * chains. Nothing is repaired: this only says where the chain breaks.
 */
export function firstBrokenLink(previous: string, rows: readonly ShownLink[]): BrokenLink | undefined {
  let link = previous;
  for (const row of rows) {
    const expected = row.bidder === null ? null : nextLink(link, { ...row, bidder: row.bidder });
    if (expected === null || row.hash !== expected) return { seq: row.seq, shown: row.hash, expected };
    link = expected;
  }
  return undefined;
}
