// The benchmarks' own Workers, served the way the service under test is
// (tools/service-process.ts): the platform floor (floor/) and the naive
// design, one PostgreSQL upsert per bid (naive/).
import type { Runner } from "../../tools/service-process.js";
import { ServiceProcess } from "../../tools/service-process.js";
import { readDevSecret } from "../../tools/token.js";

async function started(service: ServiceProcess): Promise<ServiceProcess> {
  await service.start();
  return service;
}

/** The naive Worker on `databaseUrl`, checking tokens signed with the dev secret like the product. */
export async function startNaiveWorker(runner: Runner, databaseUrl: string): Promise<ServiceProcess> {
  return started(
    await ServiceProcess.create({
      runner,
      worker: "load/benchmarks/naive/wrangler.toml",
      env: { DATABASE_URL: databaseUrl },
      vars: { JWT_SECRET: readDevSecret() },
    }),
  );
}

export async function startFloorWorker(runner: Runner, processes = 1): Promise<ServiceProcess> {
  const args = runner === "start" ? ["--processes", String(processes)] : [];
  return started(
    await ServiceProcess.create({ runner, worker: "load/benchmarks/floor/wrangler.toml", args }),
  );
}
