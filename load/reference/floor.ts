// The platform floor (load/floor/): what wrangler dev's workerd serves on this
// machine with none of the product in the way, closed loop on each route.
import type { RawLoopResult } from "../raw-closed-loop.js";
import { type DevWorker, startDevWorker } from "../worker-dev.js";
import { type Measured, runFixedReads } from "./workloads.js";

export const FLOOR_ROUTES = ["/bare", "/object", "/write"] as const;
export type FloorRoute = (typeof FLOOR_ROUTES)[number];
export const FLOOR_CONNECTIONS = 100;

export function startFloorWorker(): Promise<DevWorker> {
  return startDevWorker({ config: "load/floor/wrangler.toml", label: "the floor Worker" });
}

export async function measureFloor(
  floor: DevWorker,
  durationMs: number,
  signal: AbortSignal,
): Promise<Record<FloorRoute, Measured<RawLoopResult>>> {
  const results: Partial<Record<FloorRoute, Measured<RawLoopResult>>> = {};
  for (const route of FLOOR_ROUTES) {
    results[route] = await runFixedReads(
      floor.url,
      route,
      FLOOR_CONNECTIONS,
      durationMs,
      [floor.pid],
      signal,
    );
  }
  const { "/bare": bare, "/object": object, "/write": write } = results;
  if (!bare || !object || !write) throw new Error("a floor route was not measured");
  return { "/bare": bare, "/object": object, "/write": write };
}
