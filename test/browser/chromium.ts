// Debian's Chromium (apt-get install -y chromium) driven by playwright-core,
// which never downloads a browser of its own.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile of its own, removed on close. */
export async function launchChromium(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), "bidding-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
