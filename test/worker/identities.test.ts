// Provider tokens name people by (iss, sub), whatever the shape of sub (API.md
// v1.2, "Identities"): the first token of a new pair creates the user, named
// from its claims; every later one is that user. Signed by the stand-in
// provider's real keys (test/support/jwks-server.ts), RS256 and ES256.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { z } from "@hono/zod-openapi";
import { beforeAll, describe, expect, it } from "vitest";
import { BidReceiptSchema, MeSchema, UserSchema, UserViewSchema } from "../../src/api/contract";
import worker from "../../src/worker";
import {
  adminToken,
  bid,
  call,
  createSession,
  createUsers,
  readResponse,
  type Session,
  tokenFor,
  uniqueName,
} from "../support/api";
import { readIdentitiesOf, readUsersNamedLike } from "../support/database";
import { watch } from "../support/live";
import { personToken, providerKeys } from "../support/provider-tokens";

const issuer = () => providerKeys().issuer;

/** Digits only, as many as asked, the first not 0. */
function digits(count: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(count));
  return Array.from(bytes, (b, i) => (i === 0 ? 1 + (b % 9) : b % 10)).join("");
}

async function me(token: string) {
  const res = await call("GET", "/v1/me", { token, schema: MeSchema });
  expect(res.status).toBe(200);
  return res.body;
}

let session: Session;
let amount = 100;

beforeAll(async () => {
  session = await createSession({ minIncrement: 1 });
});

async function bidWith(token: string) {
  amount += 1;
  return call("POST", `/v1/sessions/${session.id}/bids`, {
    token,
    body: { amount },
    schema: BidReceiptSchema,
  });
}

describe("a provider's person, whatever the shape of their subject", () => {
  const people = [
    {
      provider: "Auth0 (RS256)",
      key: "rsa" as const,
      subject: () => `auth0|64f1c${digits(8)}e3a4b5c6d7e8f9a0`,
      claims: (tag: string) => ({
        nickname: `${tag}.auth0`,
        name: "Ada Lovelace",
        email: "ada@example.test",
      }),
      username: (tag: string) => `${tag}.auth0`,
    },
    {
      provider: "Clerk (ES256)",
      key: "ec" as const,
      subject: () => `user_2ab${digits(6)}XyZqWeRtYuIoPaSdF`,
      claims: (tag: string) => ({ preferred_username: `${tag}-clerk`, nickname: "ignored" }),
      username: (tag: string) => `${tag}-clerk`,
    },
    {
      provider: "Cognito or Entra, a UUID (RS256)",
      key: "rsa" as const,
      subject: () => crypto.randomUUID(),
      claims: (tag: string) => ({ email: `${tag}+bids@example.test` }),
      username: (tag: string) => `${tag}_bids`,
    },
    {
      provider: "Google, 21 digits (ES256)",
      key: "ec" as const,
      subject: () => digits(21),
      claims: (tag: string) => ({ name: `Grace ${tag}` }),
      username: (tag: string) => `Grace_${tag}`,
    },
  ];

  it.each(people)(
    "$provider: places a bid and reads /v1/me with the name from its claims",
    async (person) => {
      const tag = uniqueName();
      const subject = person.subject();
      const first = await bidWith(await personToken(person.key, subject, person.claims(tag)));
      expect(first.status).toBe(201);

      // Another token of the same person is the same user.
      const self = await me(await personToken(person.key, subject, person.claims(tag)));
      expect(self).toEqual({
        id: first.body.userId,
        username: person.username(tag),
        createdAt: expect.any(String),
        identities: [{ issuer: issuer(), subject }],
      });
      const second = await bidWith(await personToken(person.key, subject));
      expect(second.status).toBe(201);
      expect(second.body.userId).toBe(first.body.userId);
    },
  );

  it("a subject that reads as a user id is not that user", async () => {
    const [existing] = await createUsers(1);
    if (!existing) throw new Error("no user");
    const lookalike = await me(await personToken("rsa", String(existing.id)));
    expect(lookalike.id).not.toBe(existing.id);
    expect(lookalike.identities).toEqual([{ issuer: issuer(), subject: String(existing.id) }]);
    // Beyond 2^53 a number would round to its neighbour; a subject is compared as text.
    const above = await me(await personToken("ec", "9007199254740993"));
    const below = await me(await personToken("ec", "9007199254740992"));
    expect(above.id).not.toBe(below.id);
  });

  it("subjects of every other shape: each a user of its own, stored exactly as sent", async () => {
    const run = uniqueName();
    const shapes = [
      `${run}|slash/and|pipe`,
      `${run}/../../etc/passwd`,
      `${run}' OR '1'='1`,
      `${run} with spaces `,
      `${run}😀名前`,
      `${run}\u200bzero-width`,
      `${run}`.padEnd(255, "x"),
      `${run}|ABC`,
      `${run}|abc`,
    ];
    const ids = new Set<number>();
    for (const subject of shapes) {
      const self = await me(await personToken("rsa", subject));
      expect(self.identities).toEqual([{ issuer: issuer(), subject }]);
      ids.add(self.id);
    }
    expect(ids.size).toBe(shapes.length);
  });
});

describe("a provider's person on /live", () => {
  it("is told, on its own socket, that it was outbid", async () => {
    const subject = `auth0|${crypto.randomUUID()}`;
    const live = await createSession({ minIncrement: 1 });
    const socket = await watch(live.id, "", await personToken("ec", subject));
    const mine = await call("POST", `/v1/sessions/${live.id}/bids`, {
      token: await personToken("rsa", subject),
      body: { amount: 100 },
    });
    expect(mine.status).toBe(201);
    const [rival] = await createUsers(1);
    if (!rival) throw new Error("no user");
    expect((await bid(live.id, rival.id, 150)).status).toBe(201);
    expect(await socket.until((m) => m.type === "outbid")).toEqual({ type: "outbid", amount: 100, rank: 2 });
    socket.socket.close(1000);
  });
});

describe("the first request of a new identity", () => {
  it("50 at once create exactly one user", async () => {
    const tag = `${uniqueName()}_race`;
    const subject = `auth0|${tag}${digits(10)}`;
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => personToken(i % 2 ? "rsa" : "ec", subject, { nickname: tag })),
    );
    const answers = await Promise.all(
      tokens.map((token) => call("GET", "/v1/me", { token, schema: MeSchema })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    const ids = new Set(answers.map((a) => a.body.id));
    expect(ids.size).toBe(1);
    // The requests that lost the race rolled their own user back: no user without an identity.
    const created = await readUsersNamedLike(tag);
    expect(created.map((u) => u.id)).toEqual([...ids]);
    expect(await readIdentitiesOf(subject)).toHaveLength(1);
  });

  it("with a username already taken gets a suffix", async () => {
    const [taken] = await createUsers(1);
    if (!taken) throw new Error("no user");
    const first = await me(
      await personToken("ec", crypto.randomUUID(), { preferred_username: taken.username }),
    );
    const second = await me(
      await personToken("rsa", crypto.randomUUID(), { preferred_username: taken.username }),
    );
    expect(first.username).toMatch(new RegExp(`^${taken.username}_[a-z0-9]{6}$`));
    expect(second.username).toMatch(new RegExp(`^${taken.username}_[a-z0-9]{6}$`));
    expect(second.username).not.toBe(first.username);
  });

  it("refused for its role creates no user", async () => {
    const subject = `refused|${crypto.randomUUID()}`;
    const bid = await call("POST", `/v1/sessions/${session.id}/bids`, {
      token: await personToken("rsa", subject, { role: "admin" }),
      body: { amount: 1_000_000 },
    });
    expect(bid.status).toBe(403);
    const stats = await call("GET", `/v1/sessions/${session.id}/stats`, {
      token: await personToken("ec", subject),
    });
    expect(stats.status).toBe(403);
    expect(await readIdentitiesOf(subject)).toEqual([]);
  });
});

describe("admins and identities", () => {
  it("GET /v1/users/{id} shows identities to admins only", async () => {
    const subject = `auth0|${crypto.randomUUID()}`;
    const { id } = await me(await personToken("rsa", subject));
    const asAdmin = await call("GET", `/v1/users/${id}`, {
      token: await adminToken(),
      schema: UserViewSchema,
    });
    expect(asAdmin.body.identities).toEqual([{ issuer: issuer(), subject }]);

    for (const token of [undefined, await tokenFor(id, "user")]) {
      const res = await call("GET", `/v1/users/${id}`, { token, schema: UserViewSchema });
      expect(res.status).toBe(200);
      expect(res.body).not.toHaveProperty("identities");
    }
  });

  it("DELETE /v1/users/{id}/identities unlinks them: the next token makes a new user, the old one stays", async () => {
    const subject = `user_2${crypto.randomUUID()}`;
    const tag = uniqueName();
    const before = await bidWith(await personToken("ec", subject, { nickname: tag }));
    expect(before.status).toBe(201);
    const oldId = before.body.userId;

    const unlink = await call("DELETE", `/v1/users/${oldId}/identities`, { token: await adminToken() });
    expect(unlink.status).toBe(204);
    expect(unlink.text).toBe("");

    const after = await me(await personToken("ec", subject, { nickname: tag }));
    expect(after.id).not.toBe(oldId);
    expect(after.username).toMatch(new RegExp(`^${tag}_[a-z0-9]{6}$`));
    const old = await call("GET", `/v1/users/${oldId}`, {
      token: await adminToken(),
      schema: UserViewSchema,
    });
    expect(old.body).toMatchObject({ id: oldId, username: tag, identities: [] });
    expect(await readIdentitiesOf(subject)).toEqual([expect.objectContaining({ userId: after.id })]);
  });

  it("DELETE on a user without identities is 204; unknown user 404; not an admin 403; bad id 400", async () => {
    const [plain] = await createUsers(1);
    if (!plain) throw new Error("no user");
    const path = `/v1/users/${plain.id}/identities`;
    expect((await call("DELETE", path, { token: await adminToken() })).status).toBe(204);
    expect((await call("GET", `/v1/users/${plain.id}`, { schema: UserSchema })).body.username).toBe(
      plain.username,
    );

    const unknown = await call("DELETE", "/v1/users/9000000000000/identities", { token: await adminToken() });
    expect(unknown.problem.code).toBe("user_not_found");
    const asUser = await call("DELETE", path, { token: await tokenFor(plain.id, "user") });
    expect(asUser.problem.code).toBe("forbidden");
    const providerUser = await call("DELETE", path, { token: await personToken("rsa", crypto.randomUUID()) });
    expect(providerUser.problem.code).toBe("forbidden");
    expect((await call("DELETE", path)).problem.code).toBe("unauthorized");
    expect(
      (await call("DELETE", "/v1/users/abc/identities", { token: await adminToken() })).problem.code,
    ).toBe("invalid_request");
  });

  it("both calls are in the OpenAPI document", async () => {
    const res = await call("GET", "/openapi.json", {
      schema: z.object({ paths: z.record(z.string(), z.record(z.string(), z.unknown())) }),
    });
    expect(Object.keys(res.body.paths["/v1/users/{id}/identities"] ?? {})).toEqual(["delete"]);
    expect(Object.keys(res.body.paths["/v1/users/{id}"] ?? {})).toEqual(["get"]);
  });

  it("DELETE with the shared cache unreachable is 503 and unlinks nothing", async () => {
    const subject = `auth0|${crypto.randomUUID()}`;
    const { id } = await me(await personToken("rsa", subject));
    const brokenCache = {
      ...env,
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
      UPSTASH_REDIS_REST_TOKEN: "x",
    };
    const request = new Request(`http://bidding.test/v1/users/${id}/identities`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${await adminToken()}` },
    });
    const ctx = createExecutionContext();
    const res = await readResponse("DELETE identities", await worker.fetch(request, brokenCache, ctx));
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);
    expect(res.problem.code).toBe("service_unavailable");
    expect(res.headers.get("Retry-After")).toBe("5");
    expect(await readIdentitiesOf(subject)).toEqual([expect.objectContaining({ userId: id })]);
    expect((await me(await personToken("ec", subject))).id).toBe(id);
  });
});
