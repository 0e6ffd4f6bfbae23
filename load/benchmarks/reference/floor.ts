// The platform floor (load/floor/): what the runtime serves on this machine
// with none of the product in the way, served the way the product is (the
// same front door), closed loop on each route.
import type { Runner } from "../../../tools/service-process.js";
import type { RawLoopResult } from "../../bids/closed-loop.js";
import { type BenchWorker, startBenchWorker } from "../bench-worker.js";
import { type Measured, runFixedReads } from "./workloads.js";

export const FLOOR_ROUTES = ["/bare", "/object", "/write"] as const;
export type FloorRoute = (typeof FLOOR_ROUTES)[number];
export const FLOOR_CONNECTIONS = 100;

export function startFloorWorker(runner: Runner): Promise<BenchWorker> {
  return startBenchWorker({
    runner,
    config: "load/benchmarks/floor/wrangler.toml",
    label: "the floor Worker",
  });
}

export async function measureFloor(
  floor: BenchWorker,
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
