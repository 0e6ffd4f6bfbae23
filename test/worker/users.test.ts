import { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { CreatedUsersSchema, HealthSchema, UserSchema } from "../../src/api/contract";
import { adminToken, call, tokenFor, uniqueName } from "../support/api";

/** The generated document, only as far as these tests read it. */
const OpenApiDocumentSchema = z.object({
  openapi: z.string(),
  info: z.object({ version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

describe("POST /v1/users", () => {
  it("creates a user for an admin and reads it back", async () => {
    const username = uniqueName();
    const created = await call("POST", "/v1/users", {
      token: await adminToken(),
      body: { username },
      schema: UserSchema,
    });
    expect(created.status).toBe(201);
    expect(created.body.username).toBe(username);
    expect(created.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const read = await call("GET", `/v1/users/${created.body.id}`, { schema: UserSchema });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it("refuses a username that is taken with 409 username_taken", async () => {
    const username = uniqueName();
    const token = await adminToken();
    expect((await call("POST", "/v1/users", { token, body: { username } })).status).toBe(201);
    const again = await call("POST", "/v1/users", { token, body: { username } });
    expect(again.status).toBe(409);
    expect(again.problem.code).toBe("username_taken");
  });

  it.each([
    ["too short", { username: "ab" }, "username"],
    ["too long", { username: "a".repeat(33) }, "username"],
    ["bad characters", { username: "bob smith" }, "username"],
    ["wrong type", { username: 42 }, "username"],
    ["missing", {}, "username"],
    ["unknown field", { username: "valid_name", admin: true }, "admin"],
  ])("answers 400 invalid_request naming the field: %s", async (_case, body, field) => {
    const res = await call("POST", "/v1/users", { token: await adminToken(), body });
    expect(res.status).toBe(400);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    expect(res.problem.code).toBe("invalid_request");
    expect(res.problem.detail).toContain(field);
  });

  it.each([
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/json;",
    "application/json; charset",
    "application/json; charset=utf-8;",
    "application/+json",
  ])("answers 415 unsupported_media_type for Content-Type %s", async (type) => {
    const res = await call("POST", "/v1/users", {
      token: await adminToken(),
      body: { username: uniqueName() },
      headers: { "Content-Type": type },
    });
    expect(res.status).toBe(415);
    expect(res.problem.code).toBe("unsupported_media_type");
  });

  it("accepts JSON media types with parameters", async () => {
    for (const type of [
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "application/merge-patch+json",
    ]) {
      const res = await call("POST", "/v1/users", {
        token: await adminToken(),
        body: { username: uniqueName() },
        headers: { "Content-Type": type },
      });
      expect(res.status, type).toBe(201);
    }
  });

  it("answers 413 for a body over 16 KiB", async () => {
    const res = await call("POST", "/v1/users", {
      token: await adminToken(),
      body: { username: "x".repeat(17 * 1024) },
    });
    expect(res.status).toBe(413);
    expect(res.problem.code).toBe("payload_too_large");
  });

  it("answers 400 for broken JSON", async () => {
    const res = await call("POST", "/v1/users", { token: await adminToken(), body: '{"username":' });
    expect(res.status).toBe(400);
    expect(res.problem.code).toBe("invalid_request");
  });
});

describe("POST /v1/users/batch", () => {
  it("creates every user in one go", async () => {
    const usernames = [uniqueName(), uniqueName(), uniqueName()];
    const res = await call("POST", "/v1/users/batch", {
      token: await adminToken(),
      body: { usernames },
      schema: CreatedUsersSchema,
    });
    expect(res.status).toBe(201);
    expect(res.body.users.map((u) => u.username)).toEqual(usernames);
  });

  it("is all or nothing when one name is taken", async () => {
    const token = await adminToken();
    const taken = uniqueName();
    await call("POST", "/v1/users", { token, body: { username: taken } });
    const fresh = uniqueName();
    const res = await call("POST", "/v1/users/batch", { token, body: { usernames: [fresh, taken] } });
    expect(res.status).toBe(409);
    expect(res.problem.detail).toContain(taken);
    const lookup = await call("POST", "/v1/users", { token, body: { username: fresh } });
    expect(lookup.status).toBe(201);
  });

  it("refuses more than 1000 names and repeated names", async () => {
    const token = await adminToken();
    const tooMany = Array.from({ length: 1001 }, (_, i) => `n_${i}`);
    expect((await call("POST", "/v1/users/batch", { token, body: { usernames: tooMany } })).status).toBe(400);
    const repeated = await call("POST", "/v1/users/batch", {
      token,
      body: { usernames: ["same_1", "same_1"] },
    });
    expect(repeated.status).toBe(400);
  });
});

describe("GET /v1/users/{id}", () => {
  it("answers 404 user_not_found for an unknown id and 400 for a malformed one", async () => {
    const missing = await call("GET", "/v1/users/999999999");
    expect(missing.status).toBe(404);
    expect(missing.problem.code).toBe("user_not_found");
    for (const bad of ["0", "-1", "abc", "1.5", "99999999999999999999", "9007199254740993"]) {
      const res = await call("GET", `/v1/users/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.problem.code).toBe("invalid_request");
    }
  });
});

describe("auth", () => {
  const create = (token?: string) => call("POST", "/v1/users", { token, body: { username: uniqueName() } });

  it("answers 401 without a token", async () => {
    const res = await create();
    expect(res.status).toBe(401);
    expect(res.problem.code).toBe("unauthorized");
  });

  it("answers 401 for a token signed with another secret", async () => {
    const res = await create(await tokenFor(1, "admin", { secret: "not-the-secret" }));
    expect(res.status).toBe(401);
  });

  it("answers 401 for an expired token", async () => {
    const res = await create(await tokenFor(1, "admin", { expiresInSeconds: -60 }));
    expect(res.status).toBe(401);
  });

  it("answers 401 for an unsigned (alg none) token", async () => {
    const encode = (part: object) =>
      btoa(JSON.stringify(part)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const exp = Math.floor(Date.now() / 1000) + 600;
    const unsigned = `${encode({ alg: "none", typ: "JWT" })}.${encode({ sub: "1", role: "admin", exp })}.`;
    expect((await create(unsigned)).status).toBe(401);
  });

  it("answers 403 forbidden for a user token on an admin route", async () => {
    const res = await create(await tokenFor(1, "user"));
    expect(res.status).toBe(403);
    expect(res.problem.code).toBe("forbidden");
  });
});

describe("GET /health and the docs", () => {
  it("reports the database as ok", async () => {
    const res = await call("GET", "/health", { schema: HealthSchema });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", checks: { database: "ok" } });
  });

  it("serves the OpenAPI document with every public path", async () => {
    const res = await call("GET", "/openapi.json", { schema: OpenApiDocumentSchema });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    // The contract's version (API.md): it serves the v1.2 additions.
    expect(res.body.info.version).toBe("1.2.0");
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(["/health", "/v1/users", "/v1/users/batch", "/v1/users/{id}", "/v1/sessions"]),
    );
  });
});
