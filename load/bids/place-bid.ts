// Places one bid the way a careful client does: an Idempotency-Key on every
// bid, and the same key and body again when the outcome is unknown (no
// answer, or a 5xx), so a retry can never place a second bid.
import { setTimeout as sleep } from "node:timers/promises";
import { parseReceipt } from "../kit/api.js";
import { type HttpClient, headerOf, NetworkError, outcomeLabel, type RawAnswer } from "../kit/http.js";
import type { BidLedger, PlannedBid } from "./ledger.js";
import type { Outcome } from "./metrics.js";

export interface BidAttemptOptions {
  timeoutMs: number;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Called for each failed attempt that is followed by a retry. */
  onRetry?: (outcome: Outcome) => void;
}

/**
 * How a load client treats a bid: 30 s before giving up on an answer (a
 * shorter timeout turns an overloaded server's queue into a storm of
 * retries, which measures the retries), and 3 attempts in all.
 */
export const DEFAULT_BID_ATTEMPTS = { timeoutMs: 30_000, maxAttempts: 3 };

/** For fault drills: a 10 s answer timeout (a killed server resets at once; a live one answers in milliseconds). */
export const FAULT_BID_ATTEMPTS = { timeoutMs: 10_000, maxAttempts: 3 };

const MAX_RETRY_DELAY_MS = 1_000;
const NETWORK_RETRY_DELAY_MS = 200;

function retryDelayMs(answer: RawAnswer | undefined): number {
  const seconds = Number(answer && headerOf(answer, "retry-after"));
  return Number.isFinite(seconds) ? Math.min(seconds * 1000, MAX_RETRY_DELAY_MS) : NETWORK_RETRY_DELAY_MS;
}

/** Sends `bid`, retrying while its outcome is unknown, and records the result in `ledger`. */
export async function placeBid(
  client: HttpClient,
  sessionId: string,
  token: string,
  bid: PlannedBid,
  ledger: BidLedger,
  options: BidAttemptOptions = DEFAULT_BID_ATTEMPTS,
): Promise<Outcome> {
  let last: Outcome = { status: null, label: "not_sent" };
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    let answer: RawAnswer | undefined;
    try {
      answer = await client.request("POST", `/v1/sessions/${sessionId}/bids`, {
        token,
        body: { amount: bid.amount },
        headers: { "Idempotency-Key": bid.idempotencyKey },
        timeoutMs: options.timeoutMs,
      });
      last = { status: answer.status, label: outcomeLabel(answer) };
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      last = { status: null, label: error.label };
    }
    if (answer === undefined || answer.status >= 500) {
      // Unknown outcome: the bid may be stored. Only the same key may ask again.
      if (attempt < options.maxAttempts) {
        options.onRetry?.(last);
        await sleep(retryDelayMs(answer));
      }
      continue;
    }
    if (answer.status === 201) {
      const receipt = parseReceipt(answer.body);
      // Counted as an error (status null): the client cannot tell what was stored.
      if (receipt === undefined) return { status: null, label: "201 malformed_receipt" };
      const replayed = headerOf(answer, "idempotent-replayed") === "true";
      ledger.acknowledge(bid.idempotencyKey, receipt, replayed);
      return replayed ? { status: 201, label: "201 replayed" } : last;
    }
    ledger.refuse(bid.idempotencyKey);
    return last;
  }
  return last;
}
