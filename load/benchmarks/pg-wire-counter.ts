// npm run pg-wire-counter (options: USAGE below): the PostgreSQL wire proxy (tools/pg-wire-proxy.ts)
// in front of a loopback database, so the SQL statements a running stack sends can be counted
// exactly: start the stack with DATABASE_URL set to the proxy URL this prints, and read GET
// <control>/counters before and after a measurement (bench:leaderboard's --product-wire does).
import { startPgWireProxy } from "../../tools/pg-wire-proxy.js";
import { databaseUrlOption, integerOption, parseOptions, runCommand, UsageError } from "../kit/cli.js";

const USAGE = `usage: npm run pg-wire-counter -- --target postgres://postgres@127.0.0.1:5432/DB [--port 55432]
                               [--max-minutes 180]`;

async function main(): Promise<number> {
  const values = parseOptions({
    target: { type: "string" },
    port: { type: "string" },
    "max-minutes": { type: "string" },
  });
  if (values.target === undefined) throw new UsageError("--target is required");
  const target = databaseUrlOption(values.target);
  const port = integerOption("port", values.port, 0, { min: 0, max: 65535 });
  const maxMinutes = integerOption("max-minutes", values["max-minutes"], 180, { min: 1, max: 24 * 60 });
  const proxy = await startPgWireProxy({ targetUrl: target, host: "127.0.0.1", port });
  console.log(`proxy:   ${proxy.url}\ncontrol: ${proxy.controlUrl} (GET /counters, POST /reset)`);

  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, maxMinutes * 60_000);
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        clearTimeout(timer);
        resolve();
      });
    }
  });
  await proxy.close();
  console.log("pg-wire-counter: stopped");
  return 0;
}

runCommand("pg-wire-counter", USAGE, main);
