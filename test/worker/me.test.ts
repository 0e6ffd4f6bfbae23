// GET /v1/me: any signed-in caller learns its own user (API.md, v1.2 "Identities").
import { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { MeSchema } from "../../src/api/contract";
import { call, createUsers, tokenFor } from "../support/api";

async function oneUser() {
  const [user] = await createUsers(1);
  if (!user) throw new Error("no user created");
  return user;
}

describe("GET /v1/me", () => {
  it("answers a user's dev token with that user, privately", async () => {
    const user = await oneUser();
    const res = await call("GET", "/v1/me", { token: await tokenFor(user.id, "user"), schema: MeSchema });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: user.id,
      username: user.username,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      identities: [],
    });
    expect(res.headers.get("Cache-Control")).toBe("private, no-store");
  });

  it("answers an admin's token too", async () => {
    const user = await oneUser();
    const res = await call("GET", "/v1/me", { token: await tokenFor(user.id, "admin"), schema: MeSchema });
    expect(res.status).toBe(200);
    expect(res.body.username).toBe(user.username);
  });

  it("is 404 user_not_found for a token naming a user id nobody has", async () => {
    const res = await call("GET", "/v1/me", { token: await tokenFor(9_000_000_000_000, "user") });
    expect(res.status).toBe(404);
    expect(res.problem.code).toBe("user_not_found");
  });

  it("is 401 without a token or with a bad one", async () => {
    expect((await call("GET", "/v1/me")).problem.code).toBe("unauthorized");
    const forged = await tokenFor(1, "user", { secret: "not-the-secret" });
    const res = await call("GET", "/v1/me", { token: forged });
    expect(res.status).toBe(401);
    expect(res.problem.code).toBe("unauthorized");
  });

  it("is in the OpenAPI document", async () => {
    const res = await call("GET", "/openapi.json", {
      schema: z.object({ paths: z.record(z.string(), z.record(z.string(), z.unknown())) }),
    });
    expect(Object.keys(res.body.paths["/v1/me"] ?? {})).toEqual(["get"]);
  });
});
