import { afterEach, describe, expect, it } from "vitest";
import { HealthSchema } from "../../src/api/contract";
import { call } from "../support/api";
import { databaseDown, databaseUp } from "../support/wire";

afterEach(async () => {
  await databaseUp();
});

/** /health's status, asked until it is `status` or `withinMs` has passed. */
async function healthBecomes(status: number, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs;
  let seen = (await call("GET", "/health")).status;
  while (seen !== status && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    seen = (await call("GET", "/health")).status;
  }
  return seen;
}

// A crowd of probes costs one check a second: test/served/start.test.ts (requests of their own, as served).
describe("/health", () => {
  it("reports the database down with 503 within a second, and back up within a second", async () => {
    await databaseDown();
    expect(await healthBecomes(503, 1_500)).toBe(503);
    const res = await call("GET", "/health", { schema: HealthSchema });
    expect(res.body).toEqual({ status: "degraded", checks: { database: "down" } });
    await databaseUp();
    expect(await healthBecomes(200, 1_500)).toBe(200);
  });
});
