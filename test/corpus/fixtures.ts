// What the corpus needs to exist before it runs, created through the API:
// three bidders, an active session where bidder A holds a bid, a session that
// has not started, one that has ended (with A's bid in it, its results
// fixed), and an active one of three units with a reserve and a soft close.
import type { z } from "zod";
import {
  BidReceiptV1Schema as BidReceiptSchema,
  CreatedUsersSchema,
  SessionV1Schema as SessionSchema,
} from "../../src/api/contract.js";
import type { CorpusApi } from "./api.js";
import { ADMIN_SUB, GHOST_USER_ID, type SignToken, TokenKit } from "./tokens.js";

type Session = z.infer<typeof SessionSchema>;

export const FIXTURE_SESSIONS = ["active", "scheduled", "ended", "multiUnit"] as const;
export type FixtureSession = (typeof FIXTURE_SESSIONS)[number];

// The fixtures' figures the cases are written against.
export const MIN_BID = 100;
export const MIN_INCREMENT = 10;
/** Bidder A's live bid in the active session. */
export const A_ACTIVE_BID = 150;
/** Bidder A's live bid in the ended session. */
export const A_ENDED_BID = 200;

export interface FixtureUser {
  id: number;
  username: string;
}

export interface Fixtures {
  tag: string;
  bidders: { a: FixtureUser; b: FixtureUser; c: FixtureUser };
  sessions: Record<FixtureSession, Session>;
  /** No end of the scheduled session may be set past this. */
  scheduledHardEndsAt: string;
  /** The Idempotency-Key of bidder A's bid in the active session. */
  idempotencyKey: string;
  kit: TokenKit;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const ENDED_WAIT_MS = 20_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** A short id of this run: time and randomness, so two runs on one database never share names. */
function runTag(): string {
  const [random = 0] = crypto.getRandomValues(new Uint16Array(1));
  return `${Date.now().toString(36)}${random.toString(16).padStart(4, "0")}`;
}

/** `devSecret` is the service's JWT_SECRET; `signToken` signs the fixtures' valid tokens with it. */
export async function createFixtures(
  api: CorpusApi,
  devSecret: string,
  signToken: SignToken,
): Promise<Fixtures> {
  const tag = runTag();
  const admin = await signToken({ sub: ADMIN_SUB, role: "admin" }, 7200);
  const usernames = ["a", "b", "c"].map((who) => `corpus_${tag}_${who}`);
  const { users } = await api.expect(201, CreatedUsersSchema, "POST", "/v1/users/batch", {
    token: admin,
    json: { usernames },
  });
  const [a, b, c] = users;
  if (!a || !b || !c) throw new Error(`POST /v1/users/batch created ${users.length} users, not 3`);
  const kit = await TokenKit.create(devSecret, signToken, { a: a.id, b: b.id, c: c.id }, tag);

  const createSession = (
    name: FixtureSession,
    startsAt: number,
    endsAt: number,
    rules: Record<string, unknown> = {},
  ) =>
    api.expect(201, SessionSchema, "POST", "/v1/sessions", {
      token: admin,
      json: {
        title: `Corpus ${tag} ${name}`,
        startsAt: iso(startsAt),
        endsAt: iso(endsAt),
        minBid: MIN_BID,
        minIncrement: MIN_INCREMENT,
        ...rules,
      },
    });
  const placeBid = (session: Session, amount: number, headers: Record<string, string> = {}) =>
    api.expect(201, BidReceiptSchema, "POST", `/v1/sessions/${session.id}/bids`, {
      token: kit.token("bidderA"),
      json: { amount },
      headers,
    });

  const now = Date.now();
  const idempotencyKey = `corpus-${tag}`;
  const active = await createSession("active", now - MINUTE, now + 2 * 60 * MINUTE);
  await placeBid(active, A_ACTIVE_BID, { "Idempotency-Key": idempotencyKey });

  // Ended: opened an hour ago, bid on, then ended early through PATCH.
  const toEnd = await createSession("ended", now - MINUTE, now + 60 * MINUTE);
  await placeBid(toEnd, A_ENDED_BID);
  await api.expect(200, SessionSchema, "PATCH", `/v1/sessions/${toEnd.id}`, {
    token: admin,
    json: { endsAt: iso(Date.now() + 1000) },
  });

  const scheduledHardEndsAt = iso(now + 3 * DAY);
  const scheduled = await createSession("scheduled", now + DAY, now + 2 * DAY, {
    hardEndsAt: scheduledHardEndsAt,
  });
  const multiUnit = await createSession("multiUnit", now - MINUTE, now + 2 * 60 * MINUTE, {
    units: 3,
    reservePrice: 500,
    softClose: { windowSeconds: 60, extendSeconds: 60 },
  });
  const ended = await waitUntilEnded(api, toEnd.id);
  return {
    tag,
    bidders: { a, b, c },
    sessions: { active, scheduled, ended, multiUnit },
    scheduledHardEndsAt,
    idempotencyKey,
    kit,
  };
}

async function waitUntilEnded(api: CorpusApi, sessionId: string): Promise<Session> {
  const deadline = Date.now() + ENDED_WAIT_MS;
  for (;;) {
    const session = await api.expect(200, SessionSchema, "GET", `/v1/sessions/${sessionId}`);
    if (session.status === "ended") return session;
    if (Date.now() > deadline) throw new Error(`session ${sessionId} did not end within ${ENDED_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A well-formed session id nobody created. */
const UNKNOWN_SESSION = "5f0c8d2e-9b1a-4c3d-8e7f-0a1b2c3d4e5f";

/** The `{{name}}` placeholders the cases' paths and bodies may use. */
export function placeholderValues(fixtures: Fixtures): Record<string, string> {
  const { active, scheduled, ended, multiUnit } = fixtures.sessions;
  return {
    active: active.id,
    ACTIVE: active.id.toUpperCase(),
    scheduled: scheduled.id,
    ended: ended.id,
    multiUnit: multiUnit.id,
    unknownSession: UNKNOWN_SESSION,
    UNKNOWN: UNKNOWN_SESSION.toUpperCase(),
    scheduledStartsAt: scheduled.startsAt,
    scheduledAfterHardEnd: iso(Date.parse(fixtures.scheduledHardEndsAt) + 1),
    userA: String(fixtures.bidders.a.id),
    userB: String(fixtures.bidders.b.id),
    unknownUser: String(GHOST_USER_ID),
    takenUsername: fixtures.bidders.a.username,
    idempotencyKey: fixtures.idempotencyKey,
    tag: fixtures.tag,
    adminToken: fixtures.kit.token("admin"),
  };
}
