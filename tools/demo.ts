// npm run demo -- [--url http://127.0.0.1:${PORT:-8787}] [--state .data/demo.json] [--shell]
// Against a running server: a demo admin and two bidders, and a session to bid
// in, then the page's URL for it, ready-made tokens and curl lines that use
// them. Run it again and it reuses them (ids kept in --state, per server),
// making a new session only when the last one has ended or is about to.
// --shell prints only the shell variables, for `eval "$(npm run --silent demo -- --shell)"`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ProblemSchema, SessionSchema, UserSchema } from "../src/api/contract.js";
import { defaultApiUrl, loopbackApiUrl, parseOptions, runCommand } from "./cli.js";
import { errorMessage } from "./net.js";
import { readDevSecret, signToken } from "./token.js";

const USAGE = `usage: npm run demo -- [--url http://127.0.0.1:\${PORT:-8787}] [--state .data/demo.json] [--shell]`;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEFAULT_STATE = resolve(ROOT, ".data/demo.json");
const TOKEN_SECONDS = 24 * 3600;
const SESSION_DAYS = 7;
/** A session ending sooner than this is replaced: a demo needs time to click around. */
const RENEW_WITHIN_MS = 30 * 60_000;

type Session = z.infer<typeof SessionSchema>;

/** What one server's demo consists of, by id; the file holds one per server origin. */
const DemoStateSchema = z.object({
  users: z.object({
    demo_admin: z.number().int().optional(),
    demo_alice: z.number().int().optional(),
    demo_bob: z.number().int().optional(),
  }),
  sessionId: z.string().optional(),
});
type DemoState = z.infer<typeof DemoStateSchema>;
type Person = keyof DemoState["users"];

function readState(path: string): Record<string, DemoState> {
  if (!existsSync(path)) return {};
  try {
    const parsed = z.record(z.string(), DemoStateSchema).safeParse(JSON.parse(readFileSync(path, "utf8")));
    return parsed.success ? parsed.data : {};
  } catch {
    // An unreadable state file only costs a fresh demo.
    return {};
  }
}

class DemoApi {
  constructor(
    readonly url: URL,
    private readonly adminToken: string,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.url), {
        method,
        headers: { Authorization: `Bearer ${this.adminToken}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new Error(
        `no server answers at ${this.url.origin} (${errorMessage(error)}): start it, or pass --url`,
      );
    }
    return { status: response.status, json: await response.json().catch(() => undefined) };
  }

  fail(what: string, answer: { status: number; json: unknown }): never {
    const problem = ProblemSchema.safeParse(answer.json);
    const detail = problem.success ? `${problem.data.code}: ${problem.data.detail}` : `HTTP ${answer.status}`;
    throw new Error(`${what} failed (${detail})`);
  }

  /** The stored user if the server still has it, else a new one (with a suffix when the name is taken). */
  async user(name: Person, storedId: number | undefined): Promise<z.infer<typeof UserSchema>> {
    if (storedId !== undefined) {
      const found = UserSchema.safeParse((await this.call("GET", `/v1/users/${storedId}`)).json);
      if (found.success && found.data.username.startsWith(name)) return found.data;
    }
    for (const username of [name, `${name}_${crypto.randomUUID().slice(0, 6)}`]) {
      const created = await this.call("POST", "/v1/users", { username });
      if (created.status === 201) return UserSchema.parse(created.json);
      if (created.status !== 409) this.fail(`creating user ${username}`, created);
    }
    throw new Error(`the names ${name} and ${name}_… are all taken`);
  }

  /** The stored session while it has time left, else a new one starting now. */
  async session(storedId: string | undefined): Promise<Session> {
    if (storedId !== undefined) {
      const found = SessionSchema.safeParse((await this.call("GET", `/v1/sessions/${storedId}`)).json);
      if (found.success && found.data.endsInMs > RENEW_WITHIN_MS) return found.data;
    }
    const now = Date.now();
    const created = await this.call("POST", "/v1/sessions", {
      title: "Demo: a 1960s racing bicycle",
      startsAt: new Date(now - 1000).toISOString(),
      endsAt: new Date(now + SESSION_DAYS * 24 * 3600_000).toISOString(),
      minBid: 5000,
      minIncrement: 500,
      currency: "EUR",
      softClose: { windowSeconds: 120, extendSeconds: 120 },
    });
    if (created.status !== 201) this.fail("creating the demo session", created);
    return SessionSchema.parse(created.json);
  }
}

function nextAmount(session: Session): number {
  return session.highestBid === null ? session.minBid : session.highestBid + session.minIncrement;
}

async function main(): Promise<number> {
  const values = parseOptions({
    url: { type: "string" },
    state: { type: "string" },
    shell: { type: "boolean" },
  });
  const url = loopbackApiUrl(values.url ?? defaultApiUrl());
  const statePath = resolve(values.state ?? DEFAULT_STATE);
  const secret = readDevSecret();
  const token = (sub: number, role: "admin" | "user") =>
    signToken({ sub, role, secret, expiresInSeconds: TOKEN_SECONDS });

  const states = readState(statePath);
  const state: DemoState = states[url.origin] ?? { users: {} };
  // Users are created with an admin token; its subject becomes the demo admin once that user exists.
  const bootstrap = new DemoApi(url, await token(state.users.demo_admin ?? 1, "admin"));
  const admin = await bootstrap.user("demo_admin", state.users.demo_admin);
  const api = new DemoApi(url, await token(admin.id, "admin"));
  const alice = await api.user("demo_alice", state.users.demo_alice);
  const bob = await api.user("demo_bob", state.users.demo_bob);
  const session = await api.session(state.sessionId);

  states[url.origin] = {
    users: { demo_admin: admin.id, demo_alice: alice.id, demo_bob: bob.id },
    sessionId: session.id,
  };
  mkdirSync(dirname(statePath), { recursive: true });
  writeFileSync(statePath, `${JSON.stringify(states, null, 2)}\n`);

  const base = url.origin;
  const reused = state.sessionId === session.id ? "reused" : "new";
  const amount = nextAmount(session);
  const exports = [
    `export API=${base} SESSION=${session.id}`,
    `export ADMIN=${await token(admin.id, "admin")}`,
    `export ALICE=${await token(alice.id, "user")}`,
    `export BOB=${await token(bob.id, "user")}`,
    // Bids valid right now: Alice goes one raise above the highest, Bob one above her.
    `export ALICE_BID=${amount} BOB_BID=${amount + session.minIncrement}`,
  ];
  if (values.shell) {
    console.log(exports.join("\n"));
    return 0;
  }
  const lines = [
    `Session "${session.title}" (${reused}, ${session.status}, ends ${session.endsAt}, amounts in ${session.currency} cents)`,
    "",
    "Open the page (paste a token below into its Sign in box):",
    `  ${base}/#${session.id}`,
    "",
    `Tokens, valid ${TOKEN_SECONDS / 3600} h, and bids valid now (paste into your shell, or eval "$(npm run --silent demo -- --shell)"):`,
    ...exports.map((line) => `  ${line}`),
    "",
    `Try (${alice.username} and ${bob.username} bid, the admin ends it early):`,
    '  curl -s "$API/v1/sessions/$SESSION"',
    `  curl -s -X POST "$API/v1/sessions/$SESSION/bids" -H "Authorization: Bearer $ALICE" -H 'Content-Type: application/json' -d "{\\"amount\\": $ALICE_BID}"`,
    `  curl -s -X POST "$API/v1/sessions/$SESSION/bids" -H "Authorization: Bearer $BOB" -H 'Content-Type: application/json' -d "{\\"amount\\": $BOB_BID}"`,
    '  curl -s "$API/v1/sessions/$SESSION/leaderboard"',
    '  curl -s "$API/v1/me/bids" -H "Authorization: Bearer $ALICE"',
    `  curl -s -X PATCH "$API/v1/sessions/$SESSION" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' -d "{\\"endsAt\\": \\"$(date -u +%Y-%m-%dT%H:%M:%S.000Z)\\"}"`,
    "",
    `Run npm run demo again for fresh tokens and amounts; it makes a new session once this one has ended.`,
  ];
  console.log(lines.join("\n"));
  return 0;
}

runCommand("demo", USAGE, main);
