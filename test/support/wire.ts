import { inject } from "vitest";

/** The proxy in front of PostgreSQL for the "wire" project (tools/pg-wire-proxy.ts). */
async function control(
  method: "GET" | "POST",
  path: string,
): Promise<{ connections: number; statements: number }> {
  const res = await fetch(`${inject("wireControlUrl")}${path}`, { method });
  if (!res.ok) throw new Error(`wire proxy ${path}: ${res.status}`);
  return res.json();
}

export const databaseDown = () => control("POST", "/down");
export const databaseUp = () => control("POST", "/up");
export const wireCounters = () => control("GET", "/counters");

/** SQL statements that reached PostgreSQL while `work` ran. */
export async function statementsDuring(work: () => Promise<unknown>): Promise<number> {
  const before = await wireCounters();
  await work();
  return (await wireCounters()).statements - before.statements;
}
