// CORS (API.md, "Browsers"): the Worker called with an env whose CORS_ORIGINS
// each test chooses; the binding itself (wrangler.toml) leaves it empty.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/worker";
import { createSession } from "../support/api";

const APP = "https://app.example";
const OTHER = "https://evil.example";

function withOrigins(origins: string): Env {
  return { ...env, CORS_ORIGINS: origins };
}

async function send(origins: string, path: string, init: RequestInit = {}): Promise<Response> {
  return worker.fetch(new Request(`http://bidding.test${path}`, init), withOrigins(origins));
}

const preflight = (origin: string) => ({
  method: "OPTIONS",
  headers: {
    Origin: origin,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
  },
});

const BID_PATH = "/v1/sessions/0b8f3c5e-2f7a-4c61-9d1e-6a1f0e5b9c42/bids";
const corsHeaders = (res: Response) =>
  [...res.headers.keys()].filter((name) => name.startsWith("access-control-"));
const listed = (value: string | null) => (value ?? "").split(",").map((item) => item.trim().toLowerCase());

describe("CORS", () => {
  it("allows a listed origin and exposes the contract's headers", async () => {
    // Spacing, case and a trailing slash in the setting do not matter.
    const res = await send(` https://APP.example/ , ${"https://second.example"}`, "/health", {
      headers: { Origin: APP },
    });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(APP);
    expect(listed(res.headers.get("Access-Control-Expose-Headers"))).toEqual([
      "idempotent-replayed",
      "retry-after",
    ]);
    expect(listed(res.headers.get("Vary"))).toContain("origin");
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("puts the headers on problem documents too, so a browser can read a 401", async () => {
    const res = await send(APP, BID_PATH, {
      method: "POST",
      headers: { Origin: APP, "Content-Type": "application/json" },
      body: JSON.stringify({ amount: 100 }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(APP);
  });

  it("refuses an origin that is not listed: no Allow-Origin, on requests and preflights", async () => {
    const res = await send(APP, "/health", { headers: { Origin: OTHER } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const pre = await send(APP, BID_PATH, preflight(OTHER));
    expect(pre.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("answers the bid route's preflight with Authorization and Idempotency-Key allowed", async () => {
    const res = await send(APP, BID_PATH, preflight(APP));
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(APP);
    expect(listed(res.headers.get("Access-Control-Allow-Methods"))).toContain("post");
    expect(listed(res.headers.get("Access-Control-Allow-Headers"))).toEqual(
      expect.arrayContaining(["authorization", "content-type", "idempotency-key"]),
    );
    expect(res.headers.get("Access-Control-Max-Age")).toBe("600");
  });

  it("with '*', allows any origin", async () => {
    const res = await send("*", "/health", { headers: { Origin: OTHER } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const pre = await send("*", BID_PATH, preflight(OTHER));
    expect(pre.status).toBe(204);
    expect(pre.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });

  it("unset (the wrangler.toml default): no CORS headers at all, and OPTIONS is an unknown route", async () => {
    expect(env.CORS_ORIGINS).toBe("");
    const res = await exports.default.fetch("http://bidding.test/health", { headers: { Origin: APP } });
    expect(corsHeaders(res)).toEqual([]);
    const pre = await exports.default.fetch(`http://bidding.test${BID_PATH}`, preflight(APP));
    expect([404, 405]).toContain(pre.status);
    expect(corsHeaders(pre)).toEqual([]);
  });

  it("leaves WebSocket upgrades alone", async () => {
    const session = await createSession();
    const res = await send(APP, `/v1/sessions/${session.id}/live`, {
      headers: { Upgrade: "websocket", Origin: APP },
    });
    expect(res.status).toBe(101);
    res.webSocket?.accept();
    res.webSocket?.close(1000, "done");
  });
});
