// The bid log's verifier (API.md v1.2, "The bid log"): recomputes a
// session's hash chain from its public history alone, as any client could,
// and checks the session's head, the results' finalHash and saved receipts
// against it. It trusts nothing the server computed: every link is
// recomputed from the row's fields and the link before it.
// `npm run verify` (tools/verify.ts) runs it from the terminal; the tests run
// it against the Worker in workerd through `fetch`.
import type { z } from "zod";
import {
  BidHistorySchema,
  BidReceiptSchema,
  ProblemSchema,
  ResultsSchema,
  SessionSchema,
} from "../src/api/contract.js";
import { genesisLink, nextLink } from "../src/history/chain.js";

/** What a saved 201 receipt must hold to be checked. */
export const SavedReceiptSchema = BidReceiptSchema.pick({
  sessionId: true,
  seq: true,
  bidder: true,
  amount: true,
  placedAt: true,
  hash: true,
});
export type SavedReceipt = z.infer<typeof SavedReceiptSchema>;

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface VerifyRequest {
  /** The service root, e.g. http://127.0.0.1:8787. */
  baseUrl: string;
  sessionId: string;
  receipts?: readonly SavedReceipt[];
  fetch?: Fetch;
  /** History rows per page (the API takes 1–500). */
  pageSize?: number;
}

export type Verification =
  | { ok: true; bids: number; head: string }
  /** `seq`: the first bid that does not match. */
  | { ok: false; seq: number; reason: string };

/** The server could not be asked: no answer, or an answer that is not the contract's. One sentence. */
export class VerifyError extends Error {
  override name = "VerifyError";
}

const PAGE_SIZE = 500;
const TIMEOUT_MS = 10_000;

const short = (hash: string | null | undefined) => (hash == null ? "none" : `${hash.slice(0, 16)}…`);

/** A failed fetch in one line: Node puts the reason (refused, unknown host) in the cause. */
function failure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof AggregateError && error.message === "") return error.errors.map(failure).join("; ");
  return error.cause === undefined
    ? error.message || error.name
    : `${error.message}: ${failure(error.cause)}`;
}

/** One answer of the API, parsed with the contract's schema; anything else is a VerifyError. */
async function read<S extends z.ZodType>(
  request: VerifyRequest,
  path: string,
  schema: S,
): Promise<z.output<S>> {
  const url = new URL(path, request.baseUrl).toString();
  const fetcher = request.fetch ?? fetch;
  let response: Response;
  try {
    response = await fetcher(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    throw new VerifyError(`cannot reach ${request.baseUrl}: ${failure(error)}`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new VerifyError(`GET ${path} answered ${response.status} with something other than JSON`);
  }
  if (response.status !== 200) {
    const problem = ProblemSchema.safeParse(json);
    const why = problem.success ? `${problem.data.code}: ${problem.data.detail}` : "not a problem document";
    throw new VerifyError(`GET ${path} answered ${response.status} (${why})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new VerifyError(`GET ${path} does not match the contract`);
  return parsed.data;
}

/**
 * Recomputes every link of the session's history, page by page, from h0;
 * then checks the session's head as it was read first, the results'
 * finalHash once the session has ended, and each receipt given. Stops at the
 * first thing that does not match.
 */
export async function verifyBidLog(request: VerifyRequest): Promise<Verification> {
  const { sessionId } = request;
  const base = `/v1/sessions/${sessionId}`;
  const session = await read(request, base, SessionSchema);
  // links[n] is the link of seq n, recomputed; links[0] is h0.
  const links = [genesisLink(sessionId)];
  let after = 0;
  for (;;) {
    const page = await read(
      request,
      `${base}/bids?after=${after}&limit=${request.pageSize ?? PAGE_SIZE}`,
      BidHistorySchema,
    );
    for (const row of page.bids) {
      const seq = links.length;
      if (row.seq !== seq) {
        return { ok: false, seq, reason: `the history skips from seq ${seq - 1} to ${row.seq}` };
      }
      if (row.hash === null) {
        return {
          ok: false,
          seq,
          reason: "it has no link: this session took bids before the bid log existed",
        };
      }
      const previous = links[seq - 1] ?? "";
      const link = nextLink(previous, row);
      if (link !== row.hash) {
        const fields = `${row.bidder}, amount ${row.amount}, placed ${row.placedAt}, auto ${row.auto ? 1 : 0}`;
        const reason =
          `the history shows link ${short(row.hash)}, but its row (${fields}) after the link of seq ${seq - 1} ` +
          `gives ${short(link)}: the row or its link was changed after the fact`;
        return { ok: false, seq, reason };
      }
      links.push(link);
    }
    if (page.nextAfter === null || page.bids.length === 0) break;
    after = page.nextAfter;
  }
  const last = links.length - 1;
  const head = links[last] ?? "";

  // The session as read before the history: its head is a seq the history has reached.
  const headLink = links[session.headSeq];
  if (headLink !== session.headHash) {
    const reason = `the session shows headHash ${short(session.headHash)}, the history gives ${short(headLink)}`;
    return { ok: false, seq: session.headSeq, reason };
  }
  if (session.status === "ended") {
    const { finalSeq, finalHash } = await read(request, `${base}/results`, ResultsSchema);
    if (finalSeq !== last) {
      return {
        ok: false,
        seq: finalSeq,
        reason: `the results end at seq ${finalSeq}, the history at ${last}`,
      };
    }
    if (finalHash !== head) {
      const reason = `the results show finalHash ${short(finalHash)}, the history gives ${short(head)}`;
      return { ok: false, seq: finalSeq, reason };
    }
  }
  for (const receipt of request.receipts ?? []) {
    const problem = receiptProblem(receipt, sessionId, links[receipt.seq]);
    if (problem) return { ok: false, seq: receipt.seq, reason: problem };
  }
  return { ok: true, bids: last, head };
}

/** Why a saved receipt does not match the recomputed chain, or undefined when it does. */
function receiptProblem(
  receipt: SavedReceipt,
  sessionId: string,
  link: string | undefined,
): string | undefined {
  if (receipt.sessionId !== sessionId) return `the receipt is for session ${receipt.sessionId}`;
  if (link === undefined) return "the receipt's bid is missing from the history";
  if (receipt.hash === link) return undefined;
  return (
    `the receipt shows link ${short(receipt.hash)}, the history gives ${short(link)}: ` +
    "the history's bid is not the one the receipt acknowledged"
  );
}

/** The line `npm run verify` prints. */
export function describeVerification(verification: Verification): string {
  if (verification.ok) return `verified ${verification.bids} bids, head ${verification.head}`;
  return `seq ${verification.seq} does not match: ${verification.reason}`;
}
