import { describe, expect, it } from "vitest";
import type { HeldHistory, HistoryRow } from "../../src/api/session-protocol";
import { csvRecord, csvText } from "../../src/history/csv";
import { HistoryGap, heldRun, joinPage, postgresRange } from "../../src/history/merge";

const row = (seq: number): HistoryRow => ({
  seq,
  userId: 1 + (seq % 3),
  amount: 100 + seq,
  placedAt: Date.UTC(2026, 0, 1) + seq,
  auto: false,
  username: null,
  bidder: null,
  hash: null,
});
const rows = (...seqs: number[]) => seqs.map(row);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * A session of `seq` bids of which PostgreSQL has 1..flushedSeq, and the
 * object the rows `held` (every one above flushedSeq, and any flushed ones
 * not yet pruned): every page read through the merge, for every start and
 * size, must be exactly the next seqs.
 */
function readEveryPage(seq: number, flushedSeq: number, held: number[]) {
  const object = new Set(held);
  for (let s = flushedSeq + 1; s <= seq; s += 1) object.add(s);
  const objectRows = [...object].sort((a, b) => a - b).map(row);
  for (let after = 0; after <= seq + 1; after += 1) {
    for (const limit of [1, 2, 3, 5, 8, 50]) {
      const fromObject = heldRun(objectRows.filter((r) => r.seq > after).slice(0, limit), after, limit);
      const answer: HeldHistory = { flushedSeq, seq, bids: fromObject };
      const wanted = postgresRange(after, limit, answer);
      const fromPostgres = wanted
        ? rows(...range(1, flushedSeq))
            .filter((r) => r.seq > wanted.afterSeq && r.seq < wanted.beforeSeq)
            .slice(0, wanted.limit)
        : [];
      // PostgreSQL is only asked below its watermark.
      if (wanted) expect(wanted.beforeSeq - 1).toBeLessThanOrEqual(flushedSeq);
      const page = joinPage(after, limit, answer, fromPostgres);
      const expected = range(after + 1, Math.min(seq, after + limit));
      expect(
        page.bids.map((b) => b.seq),
        `after ${after}, limit ${limit}`,
      ).toEqual(expected);
      expect(page.nextAfter).toBe(
        expected.length > 0 && (expected.at(-1) ?? 0) < seq ? expected.at(-1) : null,
      );
    }
  }
}

describe("history pages from PostgreSQL and the object", () => {
  it("are the next seqs whatever the object still holds of the flushed ones", () => {
    readEveryPage(12, 0, []);
    readEveryPage(12, 12, []);
    readEveryPage(12, 12, range(1, 12));
    readEveryPage(12, 7, []);
    readEveryPage(12, 7, range(4, 7));
    // Pruned unevenly: a flushed row left behind out of order is never used across a hole.
    readEveryPage(12, 7, [2, 5, 6]);
    readEveryPage(12, 9, [1, 3, 9]);
    readEveryPage(0, 0, []);
  });

  it("heldRun keeps the run of consecutive seqs that ends the object's rows, none when it starts past the page", () => {
    expect(heldRun(rows(3, 4, 5), 2, 10).map((r) => r.seq)).toEqual([3, 4, 5]);
    expect(heldRun(rows(3, 5, 6, 8, 9, 10), 2, 10).map((r) => r.seq)).toEqual([8, 9, 10]);
    expect(heldRun(rows(40, 41), 0, 10)).toEqual([]);
    expect(heldRun(rows(11, 12), 0, 10)).toEqual([]);
    expect(heldRun(rows(10, 11), 0, 10).map((r) => r.seq)).toEqual([10, 11]);
    expect(heldRun([], 0, 10)).toEqual([]);
  });

  it("refuses to join rows that leave a gap or double a seq", () => {
    const held: HeldHistory = { flushedSeq: 4, seq: 6, bids: rows(5, 6) };
    expect(() => joinPage(0, 10, held, rows(1, 2, 4))).toThrow(HistoryGap);
    expect(() => joinPage(0, 10, held, rows(1, 2, 3))).toThrow(HistoryGap);
    expect(() => joinPage(0, 10, held, rows(1, 2, 3, 3))).toThrow(HistoryGap);
    expect(() => joinPage(0, 10, { ...held, bids: rows(5, 7) }, rows(1, 2, 3, 4))).toThrow(HistoryGap);
    expect(joinPage(0, 10, held, rows(1, 2, 3, 4)).bids.map((b) => b.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("CSV records", () => {
  it("quote usernames as RFC 4180 says, whatever they hold, and end with CRLF", () => {
    expect(csvText("alice")).toBe('"alice"');
    expect(csvText('say "hi"')).toBe('"say ""hi"""');
    expect(csvText("a,b\r\nc")).toBe('"a,b\r\nc"');
    expect(csvRecord({ ...row(7), username: 'x"y', auto: true, hash: "ab12" })).toBe(
      `7,2,"x""y",107,2026-01-01T00:00:00.007Z,true,ab12\r\n`,
    );
    expect(csvRecord(row(9))).toBe("9,1,,109,2026-01-01T00:00:00.009Z,false,\r\n");
  });
});
