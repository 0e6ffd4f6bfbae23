// npm run test:browser: the docs page and the live page at / in a real
// browser, as a user without internet would see them. Starts `npm run dev` on
// free ports and drives Debian's Chromium with every request to another origin
// blocked: /docs renders the operations of /openapi.json from the Worker's own
// static assets; two contexts on one session see each other's bids within a
// second; the countdown moves when a soft close extends the end. Screenshots
// go to load/results/ (docs.png, live-*.png). Ends with an "N passed, N
// failed" line; exits 1 on any failure.
import { mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { errorMessage } from "../../tools/net.js";
import { type Browser, launchChromium } from "./chromium.js";
import { bidThroughForm, countdownMs, LivePageApi, openLivePage } from "./live-page.js";
import { productCases } from "./product-cases.js";
import { type ServedStack, startServedStack } from "./stack.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const RESULTS = join(ROOT, "load/results");
const SCREENSHOT = join(RESULTS, "docs.png");
const RENDER_TIMEOUT_MS = 20_000;
/** The contract's promise to watchers: a bid shows on another board within a second. */
const BOARD_DEADLINE_MS = 1000;
const NOTICE_TIMEOUT_MS = 5000;

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { summary?: string }>>;
}

const METHODS = new Set(["get", "put", "post", "delete", "patch", "head", "options"]);

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  check(res.ok, `${url}: ${res.status}`);
  return res;
}

/** Every request of `context` to another origin than `origin` is aborted and listed in the answer. */
async function blockOtherOrigins(context: BrowserContext, origin: string): Promise<string[]> {
  const elsewhere: string[] = [];
  await context.route("**/*", (route) => {
    const target = route.request().url();
    if (new URL(target).origin === origin) return route.continue();
    elsewhere.push(target);
    return route.abort("internetdisconnected");
  });
  return elsewhere;
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  const path = join(RESULTS, name);
  await page.screenshot({ path, fullPage: true });
  console.log(`  screenshot ${relative(ROOT, path)}`);
}

/** Uncaught errors of every page `context` opens, from the first script on. */
function collectPageErrors(context: BrowserContext): string[] {
  const errors: string[] = [];
  context.on("weberror", (webError) => errors.push(webError.error().message));
  return errors;
}

async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).textContent()) ?? "";
}

const cases: { name: string; run: (stack: ServedStack, browser: Browser) => Promise<void> }[] = [
  {
    name: "/docs and Swagger UI come from the Worker's static assets",
    async run({ url }) {
      const page = await fetchOk(`${url}/docs`);
      check(page.headers.get("content-type")?.startsWith("text/html") ?? false, "/docs is not HTML");
      const html = await page.text();
      for (const asset of ["/swagger-ui/swagger-ui-bundle.js", "/swagger-ui/swagger-ui.css"]) {
        check(html.includes(asset), `/docs does not load ${asset}`);
        await (await fetchOk(`${url}${asset}`)).arrayBuffer();
      }
      check(!/(src|href)="https?:/.test(html), "/docs loads something from another origin");
    },
  },
  {
    name: "the API's paths still reach the Worker",
    async run({ url }) {
      const spec = (await (await fetchOk(`${url}/openapi.json`)).json()) as OpenApiDocument;
      check(spec.openapi === "3.1.0", `/openapi.json says openapi ${spec.openapi}`);
      const health = await fetch(`${url}/health`);
      check(health.headers.get("content-type") === "application/json", "/health is not the Worker's JSON");
      // A path no file matches falls through to the Worker's own 404 problem document.
      const missing = await fetch(`${url}/no-such-page`);
      check(
        missing.status === 404 && missing.headers.get("content-type") === "application/problem+json",
        `/no-such-page: ${missing.status} ${missing.headers.get("content-type")}`,
      );
    },
  },
  {
    name: "/docs renders the operations list with every other origin blocked",
    async run({ url }, { context }) {
      const spec = (await (await fetchOk(`${url}/openapi.json`)).json()) as OpenApiDocument;
      const operations = Object.values(spec.paths).flatMap((item) =>
        Object.entries(item).filter(([method]) => METHODS.has(method)),
      );
      const elsewhere = await blockOtherOrigins(context, url);
      const pageErrors = collectPageErrors(context);
      const page = await context.newPage();
      await page.goto(`${url}/docs`);
      const opblocks = page.locator(".opblock");
      await opblocks.first().waitFor({ timeout: RENDER_TIMEOUT_MS });
      // A string, evaluated in the page: the Node-side types know no DOM.
      await page.waitForFunction(
        `document.querySelectorAll(".opblock").length >= ${operations.length}`,
        null,
        {
          timeout: RENDER_TIMEOUT_MS,
        },
      );
      const shown = await opblocks.count();
      check(shown === operations.length, `${shown} operations shown, /openapi.json has ${operations.length}`);
      const summary = operations.find(([method]) => method === "post")?.[1].summary;
      if (summary)
        await page.getByText(summary, { exact: true }).first().waitFor({ timeout: RENDER_TIMEOUT_MS });
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      console.log(`  ${shown} operations rendered; screenshot ${relative(ROOT, SCREENSHOT)}`);
      check(elsewhere.length === 0, `the page asked other origins for: ${elsewhere.join(", ")}`);
      check(pageErrors.length === 0, `errors in the page: ${pageErrors.join("; ")}`);
      await page.close();
    },
  },
  {
    name: "/ is the live page, from the Worker's static assets",
    async run({ url }) {
      const page = await fetchOk(`${url}/`);
      check(page.headers.get("content-type")?.startsWith("text/html") ?? false, "/ is not HTML");
      const html = await page.text();
      for (const asset of ["/live.js", "/live.css"]) {
        check(html.includes(asset), `/ does not load ${asset}`);
        await (await fetchOk(`${url}${asset}`)).arrayBuffer();
      }
      check(!/(src|href)="https?:/.test(html), "/ loads something from another origin");
    },
  },
  {
    name: "two contexts on one session: a bid through the form shows on the other board within a second",
    async run({ url }, browser) {
      const api = new LivePageApi(url);
      const [alice, bob] = await Promise.all([api.bidder("alice"), api.bidder("bob")]);
      const session = await api.session("Browser test: two contexts", 10 * 60_000);
      const contexts = [await browser.newContext(), await browser.newContext()] as const;
      try {
        const blocked = await Promise.all(contexts.map((context) => blockOtherOrigins(context, url)));
        const pageErrors = contexts.flatMap(collectPageErrors);
        const alicePage = await openLivePage(contexts[0], url, session.id, alice.token);
        const bobPage = await openLivePage(contexts[1], url, session.id, bob.token);

        check((await bidThroughForm(bobPage, 100)) === 201, "bob's first bid was not accepted");
        await alicePage
          .locator("#board tbody tr", { hasText: bob.username })
          .waitFor({ timeout: NOTICE_TIMEOUT_MS });

        const status = await bidThroughForm(alicePage, 150);
        const placedAt = Date.now();
        check(status === 201, `alice's bid through the form: ${status}`);
        const row = bobPage.locator("#board tbody tr", { hasText: alice.username });
        await row.filter({ hasText: "$1.50" }).waitFor({ timeout: BOARD_DEADLINE_MS });
        const seenAfter = Date.now() - placedAt;
        console.log(`  alice's 150 on bob's board ${seenAfter} ms after the 201`);
        check(
          (await bobPage.locator("#board tbody tr").first().textContent())?.includes(alice.username) ?? false,
          "alice is not first on bob's board",
        );
        // Bob's socket is signed in: leaving the winning set is a personal notice.
        await bobPage
          .locator('#notice[data-kind="outbid"]', { hasText: "outbid" })
          .waitFor({ timeout: NOTICE_TIMEOUT_MS });

        // A refused bid shows the problem document's detail.
        check((await bidThroughForm(bobPage, 105)) === 422, "bob's too-small raise was not refused");
        await bobPage.locator("#amount-error:not([hidden])").waitFor({ timeout: NOTICE_TIMEOUT_MS });
        console.log(
          `  bob sees: ${await text(bobPage, "#notice")} / ${await text(bobPage, "#amount-error")}`,
        );

        await screenshot(alicePage, "live-bidder-a.png");
        await screenshot(bobPage, "live-bidder-b-outbid.png");
        const elsewhere = blocked.flat();
        check(elsewhere.length === 0, `the pages asked other origins for: ${elsewhere.join(", ")}`);
        check(pageErrors.length === 0, `errors in the pages: ${pageErrors.join("; ")}`);
      } finally {
        await Promise.all(contexts.map((context) => context.close()));
      }
    },
  },
  {
    name: "the countdown follows the server's clock and moves when a soft close extends the end",
    async run({ url }, browser) {
      const api = new LivePageApi(url);
      const carol = await api.bidder("carol");
      // Ends in 20 s; a bid in the last 60 s moves the end to 120 s after the bid.
      const session = await api.session("Browser test: soft close", 20_000, {
        softClose: { windowSeconds: 60, extendSeconds: 120 },
      });
      const context = await browser.newContext();
      try {
        const elsewhere = await blockOtherOrigins(context, url);
        const pageErrors = collectPageErrors(context);
        const page = await openLivePage(context, url, session.id, carol.token);
        await page.locator("#extensions", { hasText: "0" }).waitFor({ timeout: NOTICE_TIMEOUT_MS });
        const endsAtBefore = await text(page, "#ends-at");
        const first = countdownMs(await text(page, "#countdown"));
        await page.waitForTimeout(1200);
        const second = countdownMs(await text(page, "#countdown"));
        check(first <= 20_000 && first > 10_000, `the countdown started at ${first} ms, not about 20 s`);
        check(second < first - 800, `the countdown did not move: ${first} ms, then ${second} ms`);
        await screenshot(page, "live-countdown-before.png");

        check((await bidThroughForm(page, 100)) === 201, "carol's bid was not accepted");
        await page.locator("#extensions", { hasText: "1" }).waitFor({ timeout: NOTICE_TIMEOUT_MS });
        const endsAtAfter = await text(page, "#ends-at");
        const extended = countdownMs(await text(page, "#countdown"));
        console.log(
          `  end ${endsAtBefore} → ${endsAtAfter}; countdown ${first} → ${second} → ${extended} ms`,
        );
        check(endsAtAfter !== endsAtBefore, `the displayed end stayed ${endsAtBefore}`);
        check(
          extended > 100_000 && extended <= 120_000,
          `after the extension ${extended} ms remain, not ~120 s`,
        );
        await page.waitForTimeout(1200);
        const later = countdownMs(await text(page, "#countdown"));
        check(
          later < extended - 800,
          `the extended countdown did not move: ${extended} ms, then ${later} ms`,
        );
        await screenshot(page, "live-countdown-extended.png");
        check(elsewhere.length === 0, `the page asked other origins for: ${elsewhere.join(", ")}`);
        check(pageErrors.length === 0, `errors in the page: ${pageErrors.join("; ")}`);
      } finally {
        await context.close();
      }
    },
  },
  ...productCases.map((c) => ({
    name: c.name,
    run: (s: ServedStack, b: Browser) => c.run(s, b, screenshot),
  })),
];

async function main(): Promise<number> {
  let passed = 0;
  let failed = 0;
  let stack: ServedStack | undefined;
  let browser: Browser | undefined;
  try {
    stack = await startServedStack();
    browser = await launchChromium();
    for (const { name, run } of cases) {
      try {
        await run(stack, browser);
        passed++;
        console.log(`ok    ${name}`);
      } catch (error) {
        failed++;
        console.log(`FAIL  ${name}: ${errorMessage(error)}`);
      }
    }
  } catch (error) {
    // The stack or the browser did not start: every case counts as failed.
    failed = cases.length - passed;
    console.log(`FAIL  set-up: ${errorMessage(error)}`);
  } finally {
    await browser?.close();
    if (failed > 0 && stack) console.log(`--- npm start, last lines ---\n${stack.logTail()}`);
    await stack?.stop();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
