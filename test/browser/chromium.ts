// Debian's Chromium (apt-get install -y chromium) driven by playwright-core,
// which never downloads a browser of its own.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { type BrowserContext, chromium } from "playwright-core";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

// Debian's /usr/bin/chromium is a shell wrapper around this binary.
const DEBIAN_BINARY = "/usr/lib/chromium/chromium";

/** CHROMIUM_PATH, else Debian's binary, else whatever `chromium` is on PATH. */
export function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  if (existsSync(DEBIAN_BINARY)) return DEBIAN_BINARY;
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("no chromium: apt-get install -y chromium (or set CHROMIUM_PATH)");
  }
}

export interface Browser {
  /** The first context, for cases that need one page. */
  context: BrowserContext;
  /** Another context with its own cookies and storage (a second user), closed with the browser. */
  newContext(viewport?: { width: number; height: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

const VIEWPORT = { width: 1280, height: 900 };

/** A headless Chromium with a fresh profile of its own (Playwright's temporary one), removed on close. */
export async function launchChromium(): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: FLAGS });
  const context = await browser.newContext({ viewport: VIEWPORT });
  return {
    context,
    newContext: (viewport = VIEWPORT) => browser.newContext({ viewport }),
    close: () => browser.close(),
  };
}
