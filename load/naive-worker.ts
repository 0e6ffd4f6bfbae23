// Starts and stops the naive Worker (load/naive/) under wrangler dev on a
// free loopback port, against the product's database.
import { withPlaceholderPassword } from "../tools/net.js";
import { type DevWorker, startDevWorker } from "./worker-dev.js";

export type NaiveWorker = DevWorker;

export function startNaiveWorker(options: { databaseUrl: string; jwtSecret: string }): Promise<NaiveWorker> {
  return startDevWorker({
    config: "load/naive/wrangler.toml",
    label: "the naive Worker",
    vars: { JWT_SECRET: options.jwtSecret },
    env: {
      CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: withPlaceholderPassword(options.databaseUrl),
    },
  });
}
