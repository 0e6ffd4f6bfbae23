// The service as users run it (`npm start`) on free ports, with a scratch
// embedded database and no cache, for tests that need the Worker with its
// static assets (which the vitest pool does not put in front of it).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceProcess } from "../../tools/service-process.js";

export interface ServedStack {
  url: string;
  /** The last lines the service printed. */
  logTail(): string;
  stop(): Promise<void>;
}

export async function startServedStack(): Promise<ServedStack> {
  const scratch = mkdtempSync(join(tmpdir(), "bidding-browser-"));
  const service = await ServiceProcess.create({
    runner: "start",
    persistTo: join(scratch, "state"),
    env: { DATABASE_URL: undefined, REDIS_URL: undefined, PGLITE_DATA_DIR: join(scratch, "pglite") },
  });
  const stop = async () => {
    await service.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    await service.start();
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  return { url: service.url.origin, logTail: () => service.outputTail(), stop };
}
