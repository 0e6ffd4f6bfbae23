// `npm start` from this checkout, as a user runs it: its own process group, a
// scratch database reached through a proxy that counts the SQL statements,
// the walk a newcomer takes, then a stop and a restart on the same state.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Log, LogLevel } from "miniflare";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { z } from "zod";
import {
  CreatedUsersSchema,
  CreatedWebhookSchema,
  LeaderboardSchema,
  SessionSchema,
} from "../../src/api/contract.js";
import { ensureDevVars } from "../../tools/local-stack.js";
import { freePort } from "../../tools/net.js";
import { startPgWireProxy } from "../../tools/pg-wire-proxy.js";
import { createDatabase, dropDatabase } from "../../tools/scratch-database.js";
import { buildWorker, declaredSecrets, serveWorker } from "../../tools/serve.js";
import { ServiceProcess } from "../../tools/service-process.js";
import { signToken } from "../../tools/token.js";
import { hasValidSignature } from "../../tools/webhook-signature.js";

const ROOT = join(import.meta.dirname, "../..");
const secret = randomBytes(24).toString("hex");
const scratch = mkdtempSync(join(tmpdir(), "served-test-"));
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** Every binding name wrangler.toml declares, whatever its kind, and the secrets .dev.vars.example lists. */
async function declaredBindings(): Promise<string[]> {
  const { unstable_readConfig } = await import("wrangler");
  const config = unstable_readConfig({ config: join(ROOT, "wrangler.toml") });
  const named = (entries: unknown, key: string): string[] =>
    Array.isArray(entries)
      ? entries.flatMap((entry) => (typeof entry?.[key] === "string" ? [entry[key]] : []))
      : [];
  return [
    ...Object.keys(config.vars),
    ...declaredSecrets(),
    // [[hyperdrive]], [[analytics_engine_datasets]], [[kv_namespaces]], ...: every list of bindings.
    ...Object.values(config).flatMap((value) => named(value, "binding")),
    ...named(config.durable_objects.bindings, "name"),
    ...named(config.queues.producers, "binding"),
    ...(config.assets?.binding ? [config.assets.binding] : []),
  ];
}

describe("npm start", () => {
  it("serves the Worker with every binding wrangler.toml declares, in each of its processes", async () => {
    // As npm start does on a fresh clone: the secrets come from .dev.vars, made from the example.
    ensureDevVars(() => {});
    const worker = await buildWorker(join(ROOT, "wrangler.toml"), join(scratch, "build"));
    const served = await serveWorker({
      worker,
      host: "127.0.0.1",
      port: await freePort(),
      persistTo: join(scratch, "bindings-state"),
      processes: 2,
      databaseUrl: inject("databaseUrl"),
      log: new Log(LogLevel.NONE),
    });
    try {
      const bound = await served.bindingNames();
      const declared = await declaredBindings();
      expect(declared).toEqual(
        expect.arrayContaining(["BIDDING_SESSION", "WEBHOOK_EVENTS", "HYPERDRIVE", "ASSETS"]),
      );
      expect(bound).toHaveLength(2);
      for (const names of bound) expect(names).toEqual(expect.arrayContaining(declared));
    } finally {
      await served.dispose();
    }
  });

  // The layout npm start picks: with the cache (REDIS_URL), two processes on one port; without it, one.
  // CI runs the tests both ways, so both layouts are walked.
  const redisUrl = process.env.REDIS_URL || undefined;
  const processes = redisUrl ? 2 : 1;
  describe(`walked as a user would, ${processes === 1 ? "one process" : "two processes on one port"}`, () => {
    let service: ServiceProcess;
    let databaseUrl: string;
    let statements: () => Promise<number>;

    beforeAll(async () => {
      const server = inject("databaseUrl");
      const name = `served_${randomBytes(4).toString("hex")}`;
      databaseUrl = await createDatabase(server, name);
      cleanups.push(() => dropDatabase(server, name));
      const wire = await startPgWireProxy({ targetUrl: databaseUrl });
      cleanups.push(wire.close);
      statements = async () => {
        const counters = await (await fetch(`${wire.controlUrl}/counters`)).json();
        return z.object({ statements: z.number() }).parse(counters).statements;
      };
      service = await ServiceProcess.create({
        runner: "start",
        persistTo: join(scratch, `state-${processes}`),
        env: { DATABASE_URL: wire.url, REDIS_URL: redisUrl },
        args: ["--processes", String(processes)],
        vars: { JWT_SECRET: secret, WEBHOOK_ALLOW_LOOPBACK: "true", WEBHOOK_RETRY_BASE_SECONDS: "1" },
        ready: (response) => response.ok,
      });
      cleanups.push(async () => service.stop());
      await service.start();
    }, 120_000);

    const api = async (method: string, path: string, token?: string, body?: unknown) => {
      const headers: Record<string, string> = {};
      if (token) headers.Authorization = `Bearer ${token}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const response = await fetch(new URL(path, service.url), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, type: response.headers.get("content-type") ?? "", text };
    };
    const parse = <S extends z.ZodType>(schema: S, text: string): z.infer<S> =>
      schema.parse(JSON.parse(text));

    /** An hour-long session, open since a minute ago, minimum bid 100. */
    const openSession = async (admin: string, title: string, minIncrement: number) => {
      const opened = await api("POST", "/v1/sessions", admin, {
        title,
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        minBid: 100,
        minIncrement,
      });
      return parse(SessionSchema, opened.text).id;
    };

    it("answers a crowd of health probes with one database check per process", async () => {
      // Past the check the readiness probe made.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const before = await statements();
      const answers = await Promise.all(Array.from({ length: 50 }, () => api("GET", "/health")));
      expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
      // One check per process: each keeps its own.
      const checks = (await statements()) - before;
      expect(checks).toBeGreaterThanOrEqual(1);
      expect(checks).toBeLessThanOrEqual(processes);
    });

    it("serves the live page, the docs and the OpenAPI document on the API's port", async () => {
      const page = await api("GET", "/");
      expect(page.status).toBe(200);
      expect(page.type).toMatch(/^text\/html/);
      expect((await api("GET", "/live.js")).type).toMatch(/javascript/);
      expect((await api("GET", "/docs")).text).toContain("swagger-ui");
      expect(JSON.parse((await api("GET", "/openapi.json")).text)).toMatchObject({ openapi: "3.1.0" });
      const missing = await api("GET", "/no-such-page");
      expect(missing.status).toBe(404);
      expect(missing.type).toBe("application/problem+json");
    });

    it("takes 300 simultaneous bids on one session, each acknowledged and stored once", async () => {
      const admin = await signToken({ sub: 1, role: "admin", secret });
      const names = Array.from({ length: 300 }, (_, i) => `crowd_${randomBytes(3).toString("hex")}_${i}`);
      const { users } = parse(
        CreatedUsersSchema,
        (await api("POST", "/v1/users/batch", admin, { usernames: names })).text,
      );
      const sessionId = await openSession(admin, "Crowd", 1);
      const tokens = await Promise.all(users.map((u) => signToken({ sub: u.id, role: "user", secret })));
      // Two waves: every bidder's first bid, then every bidder's raise, all at once.
      for (const wave of [0, 1000]) {
        const answers = await Promise.all(
          users.map((_, i) =>
            api("POST", `/v1/sessions/${sessionId}/bids`, tokens[i], { amount: 100 + wave + i }),
          ),
        );
        expect(answers.filter((a) => a.status !== 201)).toEqual([]);
        if (wave === 0) {
          // Before the flush, GET /v1/me/bids knows the session only from what the coalesced calls recorded.
          const mine = await Promise.all(
            [0, 299].map(async (i) => JSON.parse((await api("GET", "/v1/me/bids", tokens[i])).text)),
          );
          const flushed = JSON.parse((await api("GET", `/v1/sessions/${sessionId}/stats`, admin)).text);
          expect(flushed.flushedSeq).toBe(0);
          expect(mine.map((page) => page.bids.map((b: { sessionId: string }) => b.sessionId))).toEqual([
            [sessionId],
            [sessionId],
          ]);
        }
      }
      const stats = await api("GET", `/v1/sessions/${sessionId}/leaderboard?limit=1`);
      expect(parse(LeaderboardSchema, stats.text)).toMatchObject({ total: 300, seq: 600 });
      // The bids went through in coalesced batches: `npm run verify` recomputes their bid log from the history.
      const { headHash } = parse(SessionSchema, (await api("GET", `/v1/sessions/${sessionId}`)).text);
      const verify = await promisify(execFile)(
        process.execPath,
        ["--import", "tsx", "tools/verify.ts", "--session", sessionId, "--url", service.url.origin],
        { cwd: ROOT },
      );
      expect(verify.stdout).toBe(`verified 600 bids, head ${headHash}\n`);
    });

    it("sends the board to live sockets on every connection, whichever process holds it", async () => {
      const admin = await signToken({ sub: 1, role: "admin", secret });
      const created = await api("POST", "/v1/users/batch", admin, {
        usernames: [`live_${randomBytes(3).toString("hex")}`],
      });
      const [user] = parse(CreatedUsersSchema, created.text).users;
      if (user === undefined) throw new Error(`one user, not ${created.text}`);
      const sessionId = await openSession(admin, "Live", 1);
      const liveUrl = new URL(`/v1/sessions/${sessionId}/live`, service.url.origin.replace(/^http/, "ws"));
      // Each socket on a connection of its own: the kernel spreads them over the processes.
      const sockets = Array.from({ length: 8 }, () => new WebSocket(liveUrl));
      cleanups.push(async () => {
        for (const socket of sockets) socket.close();
      });
      const boards = sockets.map(
        (socket) =>
          new Promise<unknown>((resolve, reject) => {
            socket.addEventListener("error", () => reject(new Error("socket error")));
            socket.addEventListener("message", (event) => {
              const message = JSON.parse(String(event.data));
              if (message.type === "leaderboard" && message.total === 1) resolve(message);
            });
          }),
      );
      await Promise.all(
        sockets.map((socket) => new Promise((resolve) => socket.addEventListener("open", resolve))),
      );
      const token = await signToken({ sub: user.id, role: "user", secret });
      expect((await api("POST", `/v1/sessions/${sessionId}/bids`, token, { amount: 120 })).status).toBe(201);
      for (const board of await Promise.all(boards)) {
        expect(board).toMatchObject({
          entries: [expect.objectContaining({ username: user.username, amount: 120 })],
        });
      }
    });

    it("takes bids, tells an outbid user's webhook through the queue, stops on SIGTERM and flushes after a restart", async () => {
      const admin = await signToken({ sub: 1, role: "admin", secret });
      const created = await api("POST", "/v1/users/batch", admin, { usernames: ["walk_ann", "walk_bob"] });
      const [ann, bob] = parse(CreatedUsersSchema, created.text).users;
      if (ann === undefined || bob === undefined) throw new Error(`two users, not ${created.text}`);
      const sessionId = await openSession(admin, "Walk", 10);
      const path = `/walk-${randomBytes(3).toString("hex")}`;
      const url = `${inject("webhookReceiverUrl")}${path}`;
      const hook = parse(
        CreatedWebhookSchema,
        (await api("POST", "/v1/webhooks", admin, { url, events: ["bid.outbid"] })).text,
      );

      const annToken = await signToken({ sub: ann.id, role: "user", secret });
      const bobToken = await signToken({ sub: bob.id, role: "user", secret });
      expect((await api("POST", `/v1/sessions/${sessionId}/bids`, annToken, { amount: 150 })).status).toBe(
        201,
      );
      expect((await api("POST", `/v1/sessions/${sessionId}/bids`, bobToken, { amount: 160 })).status).toBe(
        201,
      );
      const board = parse(
        LeaderboardSchema,
        (await api("GET", `/v1/sessions/${sessionId}/leaderboard`)).text,
      );
      expect(board.entries).toEqual([
        expect.objectContaining({ rank: 1, username: "walk_bob", amount: 160 }),
        expect.objectContaining({ rank: 2, username: "walk_ann", amount: 150 }),
      ]);

      const deadline = Date.now() + 20_000;
      const Deliveries = z.object({
        requests: z.array(z.object({ headers: z.record(z.string(), z.string()), body: z.string() })),
      });
      // Earlier tests' events may reach the new subscription too: this session's is the one.
      const ours = (body: string) => JSON.parse(body).data?.sessionId === sessionId;
      let delivery: z.infer<typeof Deliveries>["requests"][number] | undefined;
      while (delivery === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const listed = await fetch(`${inject("webhookReceiverUrl")}/control/requests?path=${path}`);
        delivery = Deliveries.parse(await listed.json()).requests.find((r) => ours(r.body));
      }
      expect(delivery).toBeDefined();
      if (delivery === undefined) return;
      expect(JSON.parse(delivery.body)).toMatchObject({
        type: "bid.outbid",
        data: { userId: ann.id, amount: 150 },
      });
      expect(await hasValidSignature(hook.secret, delivery)).toBe(true);

      // Acknowledged and not yet flushed when the stop comes (the flush runs every 5 s).
      expect((await api("POST", `/v1/sessions/${sessionId}/bids`, annToken, { amount: 170 })).status).toBe(
        201,
      );
      const stopped = Date.now();
      expect(await service.stop()).toBe(0);
      expect(Date.now() - stopped).toBeLessThan(5_000);

      await service.start();
      const stored = async () => {
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        try {
          const { rows } = await client.query<{ amount: number }>(
            "select amount::int as amount from bid_events where session_id = $1 order by seq",
            [sessionId],
          );
          return rows.map((row) => row.amount);
        } finally {
          await client.end();
        }
      };
      const flushDeadline = Date.now() + 20_000;
      let amounts = await stored();
      while (amounts.length < 3 && Date.now() < flushDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        amounts = await stored();
      }
      expect(amounts).toEqual([150, 160, 170]);
    });
  });
});
