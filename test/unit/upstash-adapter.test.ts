import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstashAdapter, type UpstashAdapter } from "../../tools/upstash-adapter";

// The project's adapter serves the Upstash REST protocol over a real Redis; the
// real @upstash/redis client must not tell it from Upstash for what the product uses.
const redisUrl = process.env.REDIS_URL;

describe.skipIf(!redisUrl)("tools/upstash-adapter with the real @upstash/redis client", () => {
  const token = randomBytes(12).toString("hex");
  const prefix = `adapter-test:${randomBytes(4).toString("hex")}:`;
  let adapter: UpstashAdapter;
  const client = (options: { token?: string; responseEncoding?: false | "base64" } = {}) =>
    new Redis({
      url: adapter.url,
      token: options.token ?? token,
      responseEncoding: options.responseEncoding,
      retry: false,
      enableTelemetry: false,
      enableAutoPipelining: false,
    });

  beforeAll(async () => {
    adapter = await startUpstashAdapter({ redisUrl: redisUrl ?? "", token });
  });
  afterAll(async () => {
    const keys = await client().keys(`${prefix}*`);
    if (keys.length > 0) await client().del(...keys);
    await adapter.close();
  });

  it("SET with EX, GET and MGET with misses, in base64 (the client's default) and plain", async () => {
    for (const redis of [client(), client({ responseEncoding: false })]) {
      expect(await redis.set(`${prefix}a`, "alice_é✓", { ex: 60 })).toBe("OK");
      expect(await redis.get(`${prefix}a`)).toBe("alice_é✓");
      expect(await redis.ttl(`${prefix}a`)).toBeGreaterThan(50);
      expect(await redis.mget<(string | null)[]>(`${prefix}a`, `${prefix}missing`)).toEqual([
        "alice_é✓",
        null,
      ]);
    }
  });

  it("runs a pipeline and returns each result in order", async () => {
    const pipeline = client().pipeline();
    pipeline.set(`${prefix}p1`, "one", { ex: 60 });
    pipeline.set(`${prefix}p2`, "two", { ex: 60 });
    pipeline.incr(`${prefix}n`);
    pipeline.get(`${prefix}p2`);
    expect(await pipeline.exec()).toEqual(["OK", "OK", 1, "two"]);
    expect(await client().mget(`${prefix}p1`, `${prefix}p2`)).toEqual(["one", "two"]);
  });

  it("refuses a wrong bearer token", async () => {
    await expect(client({ token: "wrong" }).get(`${prefix}a`)).rejects.toThrow(/unauthorized/i);
  });

  it("passes Redis errors back as errors, alone and inside a pipeline", async () => {
    const redis = client();
    await redis.set(`${prefix}s`, "text");
    await expect(redis.incr(`${prefix}s`)).rejects.toThrow(/not an integer/);
    const pipeline = redis.pipeline();
    pipeline.get(`${prefix}s`);
    pipeline.hget(`${prefix}s`, "field");
    await expect(pipeline.exec()).rejects.toThrow(/WRONGTYPE/);
  });
});
