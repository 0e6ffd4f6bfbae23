// The service under test, started by the script itself: `npm start` (or
// `npm run dev`) on a scratch database of its own on a loopback PostgreSQL
// server, stopped and the database dropped when the work is done.
import { randomBytes } from "node:crypto";
import { createDatabase, dropDatabase } from "../../tools/scratch-database.js";
import { type ServiceOptions, ServiceProcess } from "../../tools/service-process.js";
import { databaseUrlOption } from "./cli.js";

export const DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres";

/** `work` with the service and its database URL; the server is `serverUrl`, else DATABASE_URL's. */
export async function withScratchService<T>(
  label: string,
  options: Omit<ServiceOptions, "env" | "ready"> & { serverUrl?: string },
  work: (service: ServiceProcess, databaseUrl: string) => Promise<T>,
): Promise<T> {
  const serverUrl = databaseUrlOption(options.serverUrl ?? (process.env.DATABASE_URL || DEFAULT_SERVER_URL));
  const name = `${label}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const databaseUrl = await createDatabase(serverUrl, name);
  const service = await ServiceProcess.create({
    ...options,
    env: { DATABASE_URL: databaseUrl, REDIS_URL: process.env.REDIS_URL },
    ready: (response) => response.ok,
  });
  try {
    console.log(`${label}: starting ${service.command} on ${service.url.origin}, database ${name}…`);
    await service.start();
    return await work(service, databaseUrl);
  } finally {
    await service.stop();
    await dropDatabase(serverUrl, name);
  }
}
