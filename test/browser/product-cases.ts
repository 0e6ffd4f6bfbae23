// The live page as a bidder and an admin meet it, at a desktop's and a
// phone's width, and the terminal tools a newcomer runs beside it.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { SessionSchema } from "../../src/api/contract.js";
import { freePort } from "../../tools/net.js";
import type { Browser } from "./chromium.js";
import { countdownMs, LivePageApi } from "./live-page.js";
import type { ServedStack } from "./stack.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TIMEOUT_MS = 15_000;
const YEAR_MS = 365 * 24 * 3600_000;

type Case = {
  name: string;
  run: (
    stack: ServedStack,
    browser: Browser,
    screenshot: (page: Page, name: string) => Promise<void>,
  ) => Promise<void>;
};

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** Elements whose box reaches past the viewport's sides, and the page's own scroll width. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll("body *")].filter((el) => {
      const box = el.getBoundingClientRect();
      return box.width > 0 && (box.right > width + 1 || box.left < -1);
    }).map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + Math.round(el.getBoundingClientRect().right));
    if (document.documentElement.scrollWidth > width) wide.push("page scrolls sideways: " + document.documentElement.scrollWidth);
    return wide;
  })()`);
}

async function signInOnPage(page: Page, token: string, expect: string): Promise<void> {
  await page.fill("#token", token);
  await page.click("#signin-button");
  await page.locator("#whoami", { hasText: expect }).waitFor({ timeout: TIMEOUT_MS });
}

function pageCase(width: number): Case {
  return {
    name: `at ${width} px: /#<id> opens a session a year away; countdown in days, the end with its date, money, my row marked, an error next to its input, nothing wider than the screen`,
    async run({ url }, browser, screenshot) {
      const api = new LivePageApi(url);
      const [me, rival] = await Promise.all([api.bidder("dana"), api.bidder("erik")]);
      const session = await api.session("A year-long auction of a 1960s racing bicycle", YEAR_MS, {
        currency: "EUR",
        minBid: 5000,
        minIncrement: 500,
      });
      const context = await browser.newContext({ width, height: 900 });
      try {
        const page = await context.newPage();
        await page.goto(`${url}/#${session.id}`);
        await page.locator("#session-title", { hasText: "racing bicycle" }).waitFor({ timeout: TIMEOUT_MS });
        await signInOnPage(page, me.token, `Signed in as ${me.username}`);
        await page.locator('#live-state[data-state="open"]').waitFor({ timeout: TIMEOUT_MS });

        const countdown = (await page.locator("#countdown").textContent()) ?? "";
        check(/^36[45] d \d+ h \d{2} m \d{2} s$/.test(countdown), `the countdown reads "${countdown}"`);
        check(countdownMs(countdown) > YEAR_MS - 60_000, `the countdown ${countdown} is not a year`);
        const endsAt = (await page.locator("#ends-at").textContent()) ?? "";
        const endYear = String(new Date(Date.parse(session.endsAt)).getFullYear());
        check(endsAt.includes(endYear), `the end "${endsAt}" shows no date (year ${endYear})`);

        // The suggested amount is the opening bid, as money.
        check(
          (await page.inputValue("#amount")) === "50.00",
          `suggested ${await page.inputValue("#amount")}`,
        );
        check(
          ((await page.locator("#amount-hint").textContent()) ?? "").includes("€50.00"),
          "the hint does not show €50.00",
        );
        // By keyboard: Enter in the amount places the suggested bid.
        await page.focus("#amount");
        await page.keyboard.press("Enter");
        await page.locator("#board tbody tr.mine", { hasText: "(you)" }).waitFor({ timeout: TIMEOUT_MS });
        check(
          ((await page.locator("#board tbody tr.mine").textContent()) ?? "").includes("€50.00"),
          "my row does not show €50.00",
        );
        await page.locator("#receipt a[download]", { hasText: "receipt" }).waitFor({ timeout: TIMEOUT_MS });
        await api.bid(session.id, rival.token, 6000);
        await page.locator('#notice[data-kind="outbid"]').waitFor({ timeout: TIMEOUT_MS });
        // The bid log's head under the board follows the live board: now the link of the rival's bid.
        const view = SessionSchema.parse(await (await fetch(`${url}/v1/sessions/${session.id}`)).json());
        check(view.headSeq === 2 && view.headHash !== null, `the session's head is ${JSON.stringify(view)}`);
        await page.locator("#head-hash", { hasText: view.headHash ?? "" }).waitFor({ timeout: TIMEOUT_MS });
        await page.locator("#amount-hint", { hasText: "€65.00" }).waitFor({ timeout: TIMEOUT_MS });

        // Too small a raise: the reason sits right under the amount, in words and with the server's detail.
        await page.fill("#amount", "52");
        await page.click("#bid-button");
        const error = page.locator("#amount-error:not([hidden])");
        await error.waitFor({ timeout: TIMEOUT_MS });
        const said = (await error.textContent()) ?? "";
        check(
          said.includes("€65.00") && said.includes("the next must be at least"),
          `the error says "${said}"`,
        );
        const [input, box] = [await page.locator("#amount").boundingBox(), await error.boundingBox()];
        check(
          input !== null &&
            box !== null &&
            box.y >= input.y + input.height &&
            box.y - (input.y + input.height) < 40,
          `the error is not right under its input: ${JSON.stringify({ input, box })}`,
        );
        check(
          (await page.getAttribute("#amount", "aria-invalid")) === "true",
          "the input is not marked invalid",
        );

        const unlabelled: string[] = await page.evaluate(
          `[...document.querySelectorAll("input")].filter((i) => i.labels.length === 0).map((i) => i.id)`,
        );
        check(unlabelled.length === 0, `inputs without a label: ${unlabelled.join(", ")}`);
        for (const live of ["#board", "#notice"]) {
          check((await page.getAttribute(live, "aria-live")) !== null, `${live} has no aria-live`);
        }
        const wide = await overflowing(page);
        await screenshot(page, `live-${width}.png`);
        check(wide.length === 0, `wider than the ${width} px viewport: ${wide.join(", ")}`);
      } finally {
        await context.close();
      }
    },
  };
}

const sessionList: Case = {
  name: "the session list refreshes itself; /favicon.ico is an icon",
  async run({ url }, browser) {
    const icon = await fetch(`${url}/favicon.ico`);
    check(icon.status === 200, `/favicon.ico: ${icon.status}`);
    check((icon.headers.get("content-type") ?? "").startsWith("image/"), "/favicon.ico is not an image");
    const api = new LivePageApi(url);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${url}/`);
      // Loaded once: the earlier cases' sessions are listed.
      await page.locator("#session-list li").first().waitFor({ timeout: TIMEOUT_MS });
      const title = `Listed later ${Date.now()}`;
      await api.session(title, 3600_000);
      // No click: the list asks again by itself every 10 s.
      await page.locator("#session-list button", { hasText: title }).waitFor({ timeout: 15_000 });
    } finally {
      await context.close();
    }
  },
};

const adminCase: Case = {
  name: "an admin starts an auction from the page (errors beside their fields) and ends it early",
  async run({ url }, browser, screenshot) {
    const api = new LivePageApi(url);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${url}/`);
      await signInOnPage(page, await api.adminToken(), "Signed in");
      await page.locator("#admin:not([hidden])").waitFor({ timeout: TIMEOUT_MS });
      const title = `Started from the page ${Date.now()}`;
      await page.fill("#new-title", title);
      await page.fill("#new-currency", "E1");
      await page.click("#create-button");
      await page.locator("#new-currency-error:not([hidden])").waitFor({ timeout: TIMEOUT_MS });
      // The server's own refusal lands beside the field it names: a code ISO 4217 does not list.
      await page.fill("#new-currency", "ABC");
      await page.click("#create-button");
      await page
        .locator("#new-currency-error:not([hidden])", { hasText: "ISO 4217" })
        .waitFor({ timeout: TIMEOUT_MS });
      await page.fill("#new-currency", "JPY");
      await page.fill("#new-min-bid", "500");
      await page.fill("#new-min-increment", "50");
      await page.click("#create-button");
      await page.locator("#session-title", { hasText: title }).waitFor({ timeout: TIMEOUT_MS });
      await page.locator("#rules", { hasText: "500" }).waitFor({ timeout: TIMEOUT_MS });
      check(((await page.locator("#rules").textContent()) ?? "").includes("¥"), "the rules are not in yen");
      await page.click("#end-button");
      await page.locator("#status", { hasText: "closed" }).waitFor({ timeout: TIMEOUT_MS });
      await page.locator("#countdown", { hasText: "closed" }).waitFor({ timeout: TIMEOUT_MS });
      await page.locator("#bid-form").waitFor({ state: "hidden", timeout: TIMEOUT_MS });
      await page.locator("#end-button").waitFor({ state: "hidden", timeout: TIMEOUT_MS });
      await screenshot(page, "live-admin-ended.png");
    } finally {
      await context.close();
    }
  },
};

interface Ran {
  code: number | null;
  output: string;
}

function npm(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      "npm",
      ["run", "--silent", ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, output: `${stdout}${stderr}`.trim() });
      },
    );
  });
}

function oneLineFailure(ran: Ran, expected: string, what: string): void {
  check(ran.code === 1, `${what}: exit ${ran.code}, not 1: ${ran.output}`);
  check(!ran.output.includes("\n"), `${what}: more than one line: ${ran.output}`);
  check(ran.output.includes(expected), `${what}: "${ran.output}" does not say "${expected}"`);
}

const terminalTools: Case = {
  name: "npm run live and watch: a wrong id, a server that is down, a refused token: one line, exit 1",
  async run({ url }) {
    const unknown = crypto.randomUUID();
    oneLineFailure(
      await npm(["live", "--", "--session", unknown, "--url", url]),
      "has no session",
      "live, unknown id",
    );
    const down = `http://127.0.0.1:${await freePort()}`;
    oneLineFailure(
      await npm(["live", "--", "--session", unknown, "--url", down]),
      "no server answers",
      "live, down",
    );
    oneLineFailure(
      await npm(["watch", "--", "--session", unknown, "--url", down]),
      "no server answers",
      "watch, down",
    );
    oneLineFailure(
      await npm(["watch", "--", "--session", unknown], {
        PORT: new URL(url).port,
        JWT_SECRET: "not-the-servers",
      }),
      "refused the token",
      "watch, another secret, PORT",
    );
  },
};

const demoTwice: Case = {
  name: "npm run demo twice: the same session, and the curl lines it prints work each time",
  async run({ url }) {
    const scratch = mkdtempSync(join(tmpdir(), "bidding-demo-"));
    try {
      const sessions: string[] = [];
      for (let round = 1; round <= 2; round++) {
        const ran = await npm(["demo", "--", "--url", url, "--state", join(scratch, "demo.json")]);
        check(ran.code === 0, `demo run ${round}: exit ${ran.code}: ${ran.output}`);
        const page = ran.output.match(/(http:\/\/127\.0\.0\.1:\d+)\/#([0-9a-f-]{36})/);
        check(page?.[1] === url, `demo run ${round} prints no page URL on ${url}`);
        sessions.push(page?.[2] ?? "");
        const lines = ran.output.split("\n").map((line) => line.trim());
        const shell = [
          "set -e",
          ...lines.filter((line) => line.startsWith("export ")),
          ...lines
            .filter((line) => line.startsWith("curl ") && line.includes("/bids"))
            .map((line) => line.replace(/^curl -s/, 'curl -s -o /dev/null -w "%{http_code}\\n"')),
        ].join("\n");
        const statuses = await new Promise<string>((resolve) =>
          execFile("bash", ["-c", shell], (_error, stdout) => resolve(stdout.trim().replace(/\n/g, " "))),
        );
        check(statuses === "201 201 200", `demo run ${round}: the bid curl lines answered ${statuses}`);
      }
      check(sessions[0] === sessions[1], `the second run made another session: ${sessions.join(" then ")}`);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

export const productCases: Case[] = [
  pageCase(1280),
  pageCase(375),
  sessionList,
  adminCase,
  terminalTools,
  demoTwice,
];
