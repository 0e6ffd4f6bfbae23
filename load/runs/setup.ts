// Creates the users and an active session, and writes the run file the other scripts read.
import { randomBytes } from "node:crypto";
import { BiddingApi, signAdminToken } from "../kit/api.js";
import { defaultApiUrl, integerOption, loopbackApiUrl, parseOptions, runCommand } from "../kit/cli.js";
import { HttpClient } from "../kit/http.js";
import { DEFAULT_RUN_FILE, writeRunFile } from "../kit/run-file.js";

const USAGE = `usage: npm run load:setup -- [--url http://127.0.0.1:\${PORT:-8787}] [--users 1000] [--session-minutes 30]
                          [--min-bid 100] [--min-increment 1] [--run ${DEFAULT_RUN_FILE}]`;

/** Tokens outlive the session by an hour, so a run file stays usable for the whole session. */
const TOKEN_MARGIN_SECONDS = 3600;

async function main(): Promise<number> {
  const values = parseOptions({
    url: { type: "string" },
    users: { type: "string" },
    "session-minutes": { type: "string" },
    "min-bid": { type: "string" },
    "min-increment": { type: "string" },
    run: { type: "string" },
  });
  const url = loopbackApiUrl(values.url ?? defaultApiUrl());
  const userCount = integerOption("users", values.users, 1000, { min: 1, max: 100_000 });
  const sessionMinutes = integerOption("session-minutes", values["session-minutes"], 30, {
    min: 1,
    max: 7 * 24 * 60,
  });
  const minBid = integerOption("min-bid", values["min-bid"], 100, { min: 1, max: 1_000_000_000 });
  const minIncrement = integerOption("min-increment", values["min-increment"], 1, { min: 1, max: 1_000_000 });
  const runPath = values.run ?? DEFAULT_RUN_FILE;

  const tokenSeconds = sessionMinutes * 60 + TOKEN_MARGIN_SECONDS;
  const adminToken = await signAdminToken(tokenSeconds);
  const client = new HttpClient(url, { maxSockets: 4 });
  const api = new BiddingApi(client, adminToken);
  try {
    // Unique per run, so setup can run again against the same database.
    const tag = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
    const users = await api.createBidders(
      Array.from({ length: userCount }, (_, i) => `ld${tag}_${i + 1}`),
      tokenSeconds,
    );
    console.log(`users: created ${users.length}`);
    const startsAt = new Date();
    const session = await api.createSession(`Load test ${startsAt.toISOString()} (${userCount} bidders)`, {
      minutes: sessionMinutes,
      minBid,
      minIncrement,
      startsAt,
    });
    const written = writeRunFile(runPath, {
      createdAt: new Date().toISOString(),
      url: url.origin,
      sessionId: session.id,
      session,
      adminToken,
      users,
    });
    console.log(
      [
        `session: ${session.id} (${session.status}, until ${session.endsAt}, min bid ${minBid}, increment ${minIncrement})`,
        `users:   ${users.length} (ids ${users[0]?.id}…${users.at(-1)?.id})`,
        `run file: ${written}`,
        "next:    npm run load -- --rate 300 --duration 60s --database-url <the URL npm run dev printed>",
      ].join("\n"),
    );
    return 0;
  } finally {
    client.close();
  }
}

runCommand("load:setup", USAGE, main);
