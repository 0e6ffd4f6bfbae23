import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { freePort } from "../../tools/net";

// `npm run verify` from the terminal, where nothing answers: what a user reads and the exit code.

const ROOT = new URL("../..", import.meta.url).pathname;

async function runVerify(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "tools/verify.ts", ...args],
      { cwd: ROOT, env: { ...process.env, PORT: "" } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (!(error instanceof Error) || !("code" in error) || typeof error.code !== "number") throw error;
    const output = (name: string) => (name in error ? String(Reflect.get(error, name)) : "");
    return { code: error.code, stdout: output("stdout"), stderr: output("stderr") };
  }
}

describe("npm run verify", () => {
  it("says in one line that nothing answers at the URL, and exits 1", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await runVerify("--session", "0b8f3c5e-2f7a-4c61-9d1e-6a1f0e5b9c42", "--url", url);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(new RegExp(`^verify: cannot reach ${url}: .*ECONNREFUSED.*\\n$`));
  });

  it("refuses a bad command line with the usage, exit 2", async () => {
    const run = await runVerify("--session", "42");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^verify: --session must be a session id \(a UUID\), not 42\nusage: npm run verify/,
    );
  });
});
