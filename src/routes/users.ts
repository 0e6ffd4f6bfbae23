import { createRoute, z } from "@hono/zod-openapi";
import { CreatedUsersSchema, UserSchema, UserViewSchema } from "../api/contract";
import { ApiError } from "../api/problem";
import { UserIdParam, Username } from "../api/schemas";
import { withDatabase } from "../db/client";
import { bearerSecurity, createRouter, problems } from "../http/app";
import { callerRoleIfAny, requireRole } from "../http/auth";
import { identitiesOf } from "../users/identities";
import { unlinkUserIdentities } from "../users/identity-users";
import { learnUsernames } from "../users/lookup";
import { createUsers, findUser, type User } from "../users/store";

const toJson = (user: User) => ({
  id: user.id,
  username: user.username,
  createdAt: user.createdAt.toISOString(),
});

const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

const createUser = createRoute({
  method: "post",
  path: "/",
  tags: ["users"],
  summary: "Create a user",
  security: bearerSecurity,
  middleware: [requireRole("admin")] as const,
  request: { body: jsonBody(z.strictObject({ username: Username })) },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: UserSchema } } },
    ...problems(400, 401, 403, 409),
  },
});

const createUserBatch = createRoute({
  method: "post",
  path: "/batch",
  tags: ["users"],
  summary: "Create up to 1000 users, all or nothing",
  security: bearerSecurity,
  middleware: [requireRole("admin")] as const,
  request: {
    body: jsonBody(
      z.strictObject({
        usernames: z
          .array(Username)
          .min(1)
          .max(1000)
          .refine((names) => new Set(names).size === names.length, "must not repeat a username"),
      }),
    ),
  },
  responses: {
    201: {
      description: "Created",
      content: {
        "application/json": {
          schema: CreatedUsersSchema,
        },
      },
    },
    ...problems(400, 401, 403, 409),
  },
});

const getUser = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["users"],
  summary: "Read a user",
  description: "Anyone; an admin's token also shows the identities that sign in as the user.",
  request: { params: z.object({ id: UserIdParam }) },
  responses: {
    200: { description: "The user", content: { "application/json": { schema: UserViewSchema } } },
    ...problems(400, 401, 404),
  },
});

const deleteIdentities = createRoute({
  method: "delete",
  path: "/{id}/identities",
  tags: ["users"],
  summary: "Unlink every identity of a user",
  description:
    "The user stays, bids and all; the next token of an unlinked identity creates a new user. " +
    "Every instance of the API follows within a minute.",
  security: bearerSecurity,
  middleware: [requireRole("admin")] as const,
  request: { params: z.object({ id: UserIdParam }) },
  responses: {
    204: { description: "Unlinked (also when there was nothing to unlink)" },
    ...problems(400, 401, 403, 404, 503),
  },
});

async function insertAndCache(env: Env, usernames: string[]): Promise<User[]> {
  const created = await withDatabase(env, (db) => createUsers(db, usernames));
  await learnUsernames(env, new Map(created.map((u) => [u.id, u.username])));
  return created;
}

export const usersRouter = createRouter()
  .openapi(createUser, async (c) => {
    const [user] = await insertAndCache(c.env, [c.req.valid("json").username]);
    if (!user) throw new Error("insert returned no row");
    return c.json(toJson(user), 201);
  })
  .openapi(createUserBatch, async (c) => {
    const created = await insertAndCache(c.env, c.req.valid("json").usernames);
    return c.json({ users: created.map(({ id, username }) => ({ id, username })) }, 201);
  })
  .openapi(getUser, async (c) => {
    const { id } = c.req.valid("param");
    const admin = (await callerRoleIfAny(c)) === "admin";
    const found = await withDatabase(c.env, async (db) => {
      const user = await findUser(db, id);
      return user && { user, identities: admin ? await identitiesOf(db, id) : undefined };
    });
    if (!found) throw new ApiError("user_not_found", `No user has id ${id}.`);
    const { user, identities } = found;
    return c.json(identities ? { ...toJson(user), identities } : toJson(user), 200);
  })
  .openapi(deleteIdentities, async (c) => {
    const { id } = c.req.valid("param");
    if (!(await unlinkUserIdentities(c.env, id)))
      throw new ApiError("user_not_found", `No user has id ${id}.`);
    return c.body(null, 204);
  });
