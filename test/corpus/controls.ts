// The well-formed twins of the cases: they must succeed, or the cases prove
// nothing (a broken token kit would make every token case "pass"). Each is
// read-only or, like an idempotent replay, changes nothing by contract.
import { type CaseRequest, get, json, post, SESSION } from "./case.js";
import type { CaseRunner } from "./execute.js";
import { A_ACTIVE_BID } from "./fixtures.js";
import { bearer } from "./tokens.js";

export interface Control {
  name: string;
  request: CaseRequest;
  status: number;
}

export interface ControlResult {
  name: string;
  expected: number;
  status: number | null;
  detail: string;
  passed: boolean;
}

export const CONTROLS: readonly Control[] = [
  { name: "GET /health", request: get("/health"), status: 200 },
  { name: "GET the active session", request: get(SESSION.active), status: 200 },
  {
    name: "GET the active session by its upper-case id",
    request: get("/v1/sessions/{{ACTIVE}}"),
    status: 200,
  },
  {
    name: "GET the multi-unit session as admin",
    request: get(SESSION.multiUnit, { auth: "admin" }),
    status: 200,
  },
  { name: "results of the ended session", request: get(`${SESSION.ended}/results`), status: 200 },
  { name: "leaderboard limit=1", request: get(`${SESSION.active}/leaderboard?limit=1`), status: 200 },
  { name: "leaderboard limit=100", request: get(`${SESSION.active}/leaderboard?limit=100`), status: 200 },
  { name: "GET bidder A", request: get("/v1/users/{{userA}}"), status: 200 },
  {
    name: "GET bidder A as admin (identities shown)",
    request: get("/v1/users/{{userA}}", { auth: "admin" }),
    status: 200,
  },
  { name: "GET /v1/me as bidder A", request: get("/v1/me", { auth: "bidderA" }), status: 200 },
  {
    name: "stats with an admin token from the corpus's own HS256 signer",
    request: get(`${SESSION.active}/stats`, {
      auth: async (kit) => bearer(await kit.jwt({ payload: kit.claims("admin") })),
    }),
    status: 200,
  },
  {
    name: "my bid with a user token from the corpus's own HS256 signer",
    request: get(`${SESSION.active}/bids/me`, {
      auth: async (kit) => bearer(await kit.jwt({ payload: kit.claims("bidderA") })),
    }),
    status: 200,
  },
  { name: "GET /metrics/pool as admin", request: get("/metrics/pool", { auth: "admin" }), status: 200 },
  {
    name: "replay of bidder A's bid with its Idempotency-Key",
    request: post(`${SESSION.active}/bids`, json({ amount: A_ACTIVE_BID }), {
      auth: "bidderA",
      headers: { "Idempotency-Key": "{{idempotencyKey}}" },
    }),
    status: 201,
  },
];

/** Every control, one at a time. */
export async function runControls(runner: CaseRunner): Promise<ControlResult[]> {
  const results: ControlResult[] = [];
  for (const control of CONTROLS) {
    const probe = await runner.probe(control.request);
    results.push({
      name: control.name,
      expected: control.status,
      status: probe.status,
      detail: probe.detail,
      passed: probe.status === control.status,
    });
  }
  return results;
}
