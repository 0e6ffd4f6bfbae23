// A terminal view of the pool and the session's flush figures, redrawn every interval.
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { AdminFigures } from "../kit/admin-figures.js";
import { signAdminToken } from "../kit/api.js";
import * as cli from "../kit/cli.js";
import { HttpClient } from "../kit/http.js";
import { DEFAULT_RUN_FILE, readRunFile } from "../kit/run-file.js";
import { requireSession } from "./session-preflight.js";
import { renderWatchView } from "./watch-view.js";

const USAGE = `usage: npm run watch -- [--url http://127.0.0.1:\${PORT:-8787}] [--session ID | --run ${DEFAULT_RUN_FILE}]
                     [--interval 1] [--max-minutes 60]`;

const CLEAR_SCREEN = "\x1b[H\x1b[2J";

async function main(): Promise<number> {
  const values = cli.parseOptions({
    url: { type: "string" },
    session: { type: "string" },
    run: { type: "string" },
    interval: { type: "string" },
    "max-minutes": { type: "string" },
  });
  if (values.session !== undefined && values.run !== undefined) {
    throw new cli.UsageError("pass --session or --run, not both");
  }
  const runPath =
    values.run ??
    (values.session === undefined && existsSync(DEFAULT_RUN_FILE) ? DEFAULT_RUN_FILE : undefined);
  const run = runPath === undefined ? undefined : readRunFile(runPath);
  const given = values.session ?? run?.sessionId;
  if (given === undefined) throw new cli.UsageError("which session? pass --session ID or --run FILE");
  const sessionId = cli.sessionIdOption(given);
  const url = cli.loopbackApiUrl(values.url ?? run?.url ?? cli.defaultApiUrl());
  const intervalMs = cli.durationOption("interval", values.interval, 1000, { minMs: 200, maxMs: 60_000 });
  const maxMinutes = cli.integerOption("max-minutes", values["max-minutes"], 60, { min: 1, max: 24 * 60 });

  const token = await signAdminToken(maxMinutes * 60 + 300);
  await requireSession(url, sessionId, `/v1/sessions/${sessionId}/stats`, token);
  const admin = new AdminFigures(new HttpClient(url, { maxSockets: 2 }), token);
  const stop = new AbortController();
  process.on("SIGINT", () => stop.abort());
  const tty = process.stdout.isTTY;
  const deadline = Date.now() + maxMinutes * 60_000;
  while (!stop.signal.aborted && Date.now() < deadline) {
    const started = Date.now();
    const view = renderWatchView(url.origin, sessionId, await admin.snapshot(sessionId));
    process.stdout.write(tty ? `${CLEAR_SCREEN}${view}\n` : `${view}\n\n`);
    const wait = Math.max(0, intervalMs - (Date.now() - started));
    // Ctrl-C ends the wait at once.
    await sleep(wait, undefined, { signal: stop.signal }).catch(() => {});
  }
  return 0;
}

cli.runCommand("watch", USAGE, main);
