// Starts and stops the naive Worker (load/naive/) on a free loopback port,
// against the product's database.
import type { Runner } from "../../tools/service-process.js";
import { type BenchWorker, startBenchWorker } from "./bench-worker.js";

export type NaiveWorker = BenchWorker;

export function startNaiveWorker(options: {
  runner: Runner;
  databaseUrl: string;
  jwtSecret: string;
}): Promise<NaiveWorker> {
  return startBenchWorker({
    runner: options.runner,
    config: "load/benchmarks/naive/wrangler.toml",
    label: "the naive Worker",
    vars: { JWT_SECRET: options.jwtSecret },
    databaseUrl: options.databaseUrl,
  });
}
