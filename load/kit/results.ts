// JSON reports under load/results/ (git-ignored), one timestamped file per run.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const RESULTS_DIR = fileURLToPath(new URL("../results/", import.meta.url));

/** Writes `load/results/<kind>-<UTC timestamp>.json` and returns its path relative to the working directory. */
export function writeReport(kind: string, report: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const path = join(RESULTS_DIR, `${kind}-${stamp}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return relative(process.cwd(), path);
}
