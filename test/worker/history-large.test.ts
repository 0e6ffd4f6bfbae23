// A session of 100,000 bids, flushed long ago: the CSV export streams it in
// bounded memory, and history pages stay fast at both ends. The bids are
// seeded straight into PostgreSQL and the object's store (support/history.ts).
import { exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { adminToken, call, createSession, createUsers, uniqueName } from "../support/api";
import { queryRows } from "../support/corpus";
import { historyPage, seededBid, seedFlushedHistory } from "../support/history";

const BIDS = 100_000;
const HEADER = ["seq", "user_id", "username", "amount", "placed_at", "auto", "hash"];
/** Quotes, a comma and a line break: what RFC 4180 quoting is for (the API never makes such a name, PostgreSQL may hold one). */
// Unique per run and project: the projects share one database.
const AWKWARD_NAME = `Zoë "the, bidder" ${uniqueName()}\r\nsecond line`;

/** RFC 4180 records fed chunk by chunk, so a test can check a large file without holding it. */
class CsvRecords {
  private field = "";
  private record: string[] = [];
  private quoted = false;
  private pendingQuote = false;
  private pendingCr = false;

  constructor(private readonly onRecord: (record: string[]) => void) {}

  feed(text: string): void {
    for (const ch of text) {
      if (this.pendingQuote) {
        this.pendingQuote = false;
        if (ch === '"') {
          this.field += '"';
          continue;
        }
        this.quoted = false;
      }
      if (this.pendingCr) {
        this.pendingCr = false;
        if (ch !== "\n") throw new Error("a bare CR outside quotes");
        this.record.push(this.field);
        this.onRecord(this.record);
        this.record = [];
        this.field = "";
        continue;
      }
      if (this.quoted) {
        if (ch === '"') this.pendingQuote = true;
        else this.field += ch;
      } else if (ch === '"') {
        if (this.field !== "") throw new Error("a quote inside an unquoted field");
        this.quoted = true;
      } else if (ch === ",") {
        this.record.push(this.field);
        this.field = "";
      } else if (ch === "\r") this.pendingCr = true;
      else if (ch === "\n") throw new Error("a bare LF outside quotes");
      else this.field += ch;
    }
  }

  end(): void {
    if (this.quoted && !this.pendingQuote) throw new Error("an unterminated quoted field");
    if (this.field !== "" || this.record.length > 0 || this.pendingCr) throw new Error("no CRLF at the end");
  }
}

let sessionId: string;
let startedAt: number;
let userIds: number[];
let usernames: Map<number, string>;

beforeAll(async () => {
  const session = await createSession({ endsAt: new Date(Date.now() + 30 * 24 * 3_600_000).toISOString() });
  sessionId = session.id;
  const created = await createUsers(999);
  const inserted = await queryRows(sql`INSERT INTO users (username) VALUES (${AWKWARD_NAME}) RETURNING id`);
  const awkward = z.array(z.object({ id: z.coerce.number() })).parse(inserted)[0]?.id;
  if (awkward === undefined) throw new Error("no awkward user");
  const users = [...created, { id: awkward, username: AWKWARD_NAME }];
  userIds = users.map((u) => u.id);
  usernames = new Map(users.map((u) => [u.id, u.username]));
  startedAt = Date.now() - 3_600_000;
  await seedFlushedHistory(sessionId, users, BIDS, startedAt);
}, 300_000);

describe("a session of 100,000 bids", () => {
  it("exports all of them as CSV, streamed page by page: header, quoting, every row once", async () => {
    const phase = (name: string) =>
      console.log(JSON.stringify({ event: "csv_export", phase: name, at: Date.now() }));
    phase("start");
    const response = await exports.default.fetch(`http://bidding.test/v1/sessions/${sessionId}/bids.csv`, {
      headers: { Authorization: `Bearer ${await adminToken()}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/csv; charset=utf-8; header=present");
    expect(response.headers.get("Content-Disposition")).toMatch(
      /^attachment; filename="session-.*-bids\.csv"$/,
    );
    if (!response.body) throw new Error("no body");

    let records = 0;
    let wrong: string | undefined;
    const parser = new CsvRecords((record) => {
      records += 1;
      if (records === 1) {
        if (record.join() !== HEADER.join()) wrong ??= `header ${JSON.stringify(record)}`;
        return;
      }
      const seq = records - 1;
      const bid = seededBid(seq, userIds, startedAt);
      const expected = [
        String(seq),
        String(bid.userId),
        usernames.get(bid.userId) ?? "",
        String(bid.amount),
        new Date(bid.placedAt).toISOString(),
        String(bid.auto),
        // Seeded as a session that took its bids before the bid log: no links.
        "",
      ];
      if (record.join("\u0000") !== expected.join("\u0000")) {
        wrong ??= `record ${seq}: ${JSON.stringify(record)}, not ${JSON.stringify(expected)}`;
      }
    });
    const decoder = new TextDecoder();
    let chunks = 0;
    let largestChunk = 0;
    let awkwardQuoted = false;
    const quotedAwkward = `"${AWKWARD_NAME.replace(/"/g, '""')}"`;
    for await (const chunk of response.body) {
      chunks += 1;
      largestChunk = Math.max(largestChunk, chunk.byteLength);
      const text = decoder.decode(chunk, { stream: true });
      awkwardQuoted ||= text.includes(quotedAwkward);
      parser.feed(text);
    }
    parser.end();
    phase("end");
    console.log(JSON.stringify({ event: "csv_export", rows: records - 1, chunks, largestChunk }));
    expect(wrong).toBeUndefined();
    expect(records).toBe(BIDS + 1);
    expect(awkwardQuoted).toBe(true);
    // Produced one page (2,000 rows, ~150 KB) at a time, not as one body.
    expect(chunks).toBeGreaterThanOrEqual(BIDS / 2_000);
    expect(largestChunk).toBeLessThan(256 * 1024);
  }, 300_000);

  it("serves history pages at the start, the middle and the end (latencies logged)", async () => {
    const admin = await adminToken();
    const [someone] = userIds;
    const pages = [
      { label: "after=0 limit=100", after: 0, limit: 100 },
      { label: "after=0 limit=500", after: 0, limit: 500 },
      { label: "after=50000 limit=500", after: 50_000, limit: 500 },
      { label: "after=99500 limit=500 (the object's rows)", after: 99_500, limit: 500 },
      { label: "after=0 limit=500 admin", after: 0, limit: 500, token: admin },
    ];
    const timings = new Map<string, number[]>();
    const time = async (label: string, work: () => Promise<unknown>) => {
      const started = performance.now();
      await work();
      timings.set(label, [...(timings.get(label) ?? []), performance.now() - started]);
    };
    // Interleaved, so background load on the machine falls on every case alike.
    for (let run = 0; run < 25; run += 1) {
      // Baselines: one SQL query on a fresh connection, and one object call.
      await time("baseline GET /v1/users/{id} (1 query)", () => call("GET", `/v1/users/${someone}`));
      await time("baseline GET /v1/sessions/{id} (object)", () => call("GET", `/v1/sessions/${sessionId}`));
      for (const p of pages) {
        await time(p.label, async () => {
          const page = await historyPage(sessionId, p.after, p.limit, p.token);
          expect(page.bids.map((b) => b.seq)).toEqual(
            Array.from({ length: p.limit }, (_, j) => p.after + 1 + j),
          );
          expect(page.nextAfter).toBe(p.after + p.limit < BIDS ? p.after + p.limit : null);
        });
      }
    }
    const figures: Record<string, { p50: number; p95: number }> = {};
    for (const [label, ms] of timings) {
      ms.sort((a, b) => a - b);
      const at = (q: number) =>
        Math.round((ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0) * 10) / 10;
      figures[label] = { p50: at(0.5), p95: at(0.95) };
    }
    console.log(JSON.stringify({ event: "history_latency", bids: BIDS, runs: 25, figures }));
  }, 180_000);
});
