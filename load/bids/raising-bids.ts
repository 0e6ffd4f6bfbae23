// An autocannon request whose every send is a fresh, valid raise: the next
// user in rotation, that user's next amount, its token and a new
// Idempotency-Key. Answers are tallied, and receipts go to the ledger.
import type { Request } from "autocannon";
import { parseReceipt } from "../kit/api-schemas.js";
import { problemCodeOf } from "../kit/http.js";
import type { BidLedger } from "./ledger.js";
import type { Bidder } from "./open-loop.js";

export interface RaisingBidsPlan {
  sessionId: string;
  users: readonly Bidder[];
  ledger: BidLedger;
  /** Answers by label (`201`, `422 bid_increment_too_small` …), filled in as they arrive. */
  outcomes: Map<string, number>;
  /** Record 201 receipts in the ledger (the product's answers carry one; the naive Worker's do not). */
  recordReceipts: boolean;
}

function headerValue(headers: Record<string, string | string[]>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

export function raisingBidRequest(plan: RaisingBidsPlan): Request {
  const path = `/v1/sessions/${plan.sessionId}/bids`;
  let turn = 0;
  return {
    method: "POST",
    path,
    setupRequest: (request, context) => {
      const user = plan.users[turn++ % plan.users.length];
      if (!user) return request;
      const bid = plan.ledger.plan(user.id);
      // autocannon keeps one context per connection, and a connection has one request in flight.
      context.idempotencyKey = bid.idempotencyKey;
      return {
        ...request,
        method: "POST",
        path,
        headers: {
          Authorization: `Bearer ${user.token}`,
          "Content-Type": "application/json",
          "Idempotency-Key": bid.idempotencyKey,
        },
        body: JSON.stringify({ amount: bid.amount }),
      };
    },
    onResponse: (status, body, context, headers) => {
      const label = status < 300 ? String(status) : `${status} ${problemCodeOf(body) ?? "HTTP"}`;
      plan.outcomes.set(label, (plan.outcomes.get(label) ?? 0) + 1);
      const key = context.idempotencyKey;
      if (typeof key !== "string") return;
      if (status === 201) {
        const receipt = plan.recordReceipts ? parseReceipt(body) : undefined;
        if (receipt) {
          plan.ledger.acknowledge(key, receipt, headerValue(headers, "idempotent-replayed") === "true");
        }
      } else if (status < 500) {
        plan.ledger.refuse(key);
      }
    },
  };
}
