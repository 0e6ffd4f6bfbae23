import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker, { router } from "../../src/worker";
import { createSession, createUsers, tokenFor } from "../support/api";

// The lean path for plain bids (src/http/lean-bid.ts) in front of the router: the same answers.

async function send(
  through: "lean" | "router",
  sessionId: string,
  token: string,
  body: string,
  key?: string,
) {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${token}`,
    "Content-Type": "application/json",
  };
  if (key) headers["Idempotency-Key"] = key;
  const request = new Request(`http://bidding.test/v1/sessions/${sessionId}/bids`, {
    method: "POST",
    headers,
    body,
  });
  const ctx = createExecutionContext();
  const response = await (through === "lean"
    ? worker.fetch(request, env, ctx)
    : router.fetch(request, env, ctx));
  await waitOnExecutionContext(ctx);
  const {
    seq: _seq,
    placedAt: _placedAt,
    sessionId: _id,
    userId: _user,
    bidder,
    hash,
    ...rest
  } = await response.json<Record<string, unknown>>();
  return {
    status: response.status,
    contentType: response.headers.get("Content-Type"),
    replayed: response.headers.get("Idempotent-Replayed"),
    retryAfter: response.headers.get("Retry-After"),
    body: rest,
    // Pseudonym and link differ between the two sessions; both paths must carry them.
    linked: typeof bidder === "string" && typeof hash === "string",
  };
}

describe("plain bids without the router", () => {
  it("answer exactly as the router does: receipts, replays, refusals", async () => {
    const answers: Record<"lean" | "router", unknown[]> = { lean: [], router: [] };
    for (const through of ["lean", "router"] as const) {
      const session = await createSession({ minIncrement: 10 });
      const [user] = await createUsers(1);
      if (!user) throw new Error("users");
      const token = await tokenFor(user.id, "user");
      const steps = [
        send(through, session.id, token, '{"amount":100}', "k1"),
        send(through, session.id, token, '{"amount":100}', "k1"),
        send(through, session.id, token, '{"amount":105}'),
        send(through, session.id, token, '{"maxAmount":500}'),
        send(through, session.id.toUpperCase(), token, '{"amount":2000}'),
      ];
      for (const step of steps) answers[through].push(await step);
    }
    expect(answers.lean).toEqual(answers.router);
    expect(answers.lean.map((a) => (a as { status: number }).status)).toEqual([201, 201, 422, 201, 201]);
  });
});
