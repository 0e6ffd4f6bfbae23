// npm run test:browser: the docs page in a real browser, as a user without
// internet would see it. Starts `npm run dev` on free ports, opens /docs in
// Debian's Chromium with every request to another origin blocked, and checks
// that the page renders the operations of /openapi.json from the Worker's own
// static assets. A screenshot goes to load/results/docs.png. Ends with an
// "N passed, N failed" line; exits 1 on any failure.
import { mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { errorMessage } from "../../tools/net.js";
import { type Browser, launchChromium } from "./chromium.js";
import { type DevStack, startDevStack } from "./stack.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCREENSHOT = join(ROOT, "load/results/docs.png");
const RENDER_TIMEOUT_MS = 20_000;

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

const cases: { name: string; run: (stack: DevStack, browser: Browser) => Promise<void> }[] = [
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
      const elsewhere: string[] = [];
      await context.route("**/*", (route) => {
        const target = route.request().url();
        if (new URL(target).origin === url) return route.continue();
        elsewhere.push(target);
        return route.abort("internetdisconnected");
      });
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
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
];

async function main(): Promise<number> {
  let passed = 0;
  let failed = 0;
  let stack: DevStack | undefined;
  let browser: Browser | undefined;
  try {
    stack = await startDevStack();
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
    if (failed > 0 && stack) console.log(`--- npm run dev, last lines ---\n${stack.logTail()}`);
    await stack?.stop();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
