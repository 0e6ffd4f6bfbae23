// What the live page's browser cases need: users, tokens and sessions made
// through the API (tokens signed with the dev secret, as `npm run token`
// does), and a page at / signed in and watching one session.
import type { BrowserContext, Page } from "playwright-core";
import { readDevSecret, signToken } from "../../tools/token.js";

const LIVE_TIMEOUT_MS = 15_000;

export interface Bidder {
  id: number;
  username: string;
  token: string;
}

export interface CreatedSession {
  id: string;
  endsAt: string;
  extensions?: number;
}

export class LivePageApi {
  readonly #url: string;
  readonly #adminToken: Promise<string>;

  constructor(url: string) {
    this.#url = url;
    this.#adminToken = signToken({ sub: 1_000_000, role: "admin", secret: readDevSecret() });
  }

  /** A bid straight through the API, as another bidder's browser would place it. */
  async bid(sessionId: string, token: string, amount: number): Promise<void> {
    const res = await fetch(`${this.#url}/v1/sessions/${sessionId}/bids`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ amount }),
    });
    if (res.status !== 201) throw new Error(`bid ${amount}: ${res.status} ${await res.text()}`);
  }

  /** An admin's token (its subject is nobody in the user directory). */
  adminToken(): Promise<string> {
    return this.#adminToken;
  }

  async #post(path: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${this.#url}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${await this.#adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  }

  async bidder(name: string): Promise<Bidder> {
    const username = `${name}_${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
    const user = await this.#post("/v1/users", { username });
    if (typeof user !== "object" || user === null || !("id" in user) || typeof user.id !== "number")
      throw new Error(`POST /v1/users answered ${JSON.stringify(user)}`);
    return {
      id: user.id,
      username,
      token: await signToken({ sub: user.id, role: "user", secret: readDevSecret() }),
    };
  }

  /** An active session (started a second ago) ending in `endsInMs`, with the extra fields given. */
  async session(
    title: string,
    endsInMs: number,
    extra: Record<string, unknown> = {},
  ): Promise<CreatedSession> {
    const now = Date.now();
    const session = await this.#post("/v1/sessions", {
      title,
      startsAt: new Date(now - 1000).toISOString(),
      endsAt: new Date(now + endsInMs).toISOString(),
      minBid: 100,
      minIncrement: 10,
      ...extra,
    });
    if (
      typeof session !== "object" ||
      session === null ||
      !("id" in session) ||
      typeof session.id !== "string" ||
      !("endsAt" in session) ||
      typeof session.endsAt !== "string"
    )
      throw new Error(`POST /v1/sessions answered ${JSON.stringify(session)}`);
    return { id: session.id, endsAt: session.endsAt };
  }
}

/** The page at /, signed in with `token` (if any), showing `sessionId` with its live socket open. */
export async function openLivePage(
  context: BrowserContext,
  url: string,
  sessionId: string,
  token?: string,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/`);
  if (token !== undefined) {
    await page.fill("#token", token);
    await page.click("#signin-button");
    await page.locator("#whoami", { hasText: "Signed in" }).waitFor({ timeout: LIVE_TIMEOUT_MS });
  }
  await page.fill("#session-id", sessionId);
  await page.click("#open-form button[type=submit]");
  await page.locator('#live-state[data-state="open"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
  return page;
}

/** Types an amount of cents (a USD session) into the bid form as dollars and submits it; resolves with the POST's status. */
export async function bidThroughForm(page: Page, cents: number): Promise<number> {
  await page.fill("#amount", (cents / 100).toFixed(2));
  const [response] = await Promise.all([
    page.waitForResponse((res) => res.request().method() === "POST" && res.url().endsWith("/bids"), {
      timeout: LIVE_TIMEOUT_MS,
    }),
    page.click("#bid-button"),
  ]);
  return response.status();
}

/** The countdown's "365 d 4 h 03 m 09 s" (leading parts left out when zero) as milliseconds; NaN for anything else ("closed"). */
export function countdownMs(text: string): number {
  const match = text.trim().match(/^(?:(\d+) d )?(?:(\d+) h )?(?:(\d+) m )?(\d+) s$/);
  if (!match) return Number.NaN;
  const [, days = "0", hours = "0", minutes = "0", seconds = "0"] = match;
  return (((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
}
