// npm run verify -- --session ID [--url http://127.0.0.1:${PORT:-8787}] [--receipt FILE ...]
// Recomputes a session's bid log from its public history (tools/bid-log-verifier.ts) and prints
// `verified N bids, head <hash>` (exit 0) or the first seq that does not match and why (exit 1).
// FILE: a saved 201 receipt (JSON); --receipt may be given several times.
import { readFileSync } from "node:fs";
import {
  describeVerification,
  type SavedReceipt,
  SavedReceiptSchema,
  VerifyError,
  verifyBidLog,
} from "./bid-log-verifier.js";
import { defaultApiUrl, parseOptions, runCommand, UsageError } from "./cli.js";
import { errorMessage } from "./net.js";

const USAGE = `usage: npm run verify -- --session ID [--url http://127.0.0.1:\${PORT:-8787}] [--receipt FILE ...]`;

/** The service root: http(s), no path. */
function serviceUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url is not a URL: ${raw}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--url must be http:// or https://, not ${url.protocol}`);
  }
  if (url.pathname !== "/" || url.search !== "") {
    throw new UsageError(`--url must be the service root, e.g. http://127.0.0.1:8787, not ${raw}`);
  }
  return url.origin;
}

function readReceipt(file: string): SavedReceipt {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`--receipt ${file}: not a JSON file (${errorMessage(error)})`);
  }
  const parsed = SavedReceiptSchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(root)"))];
    throw new UsageError(`--receipt ${file}: not a 201 receipt of the bid log (check ${fields.join(", ")})`);
  }
  return parsed.data;
}

runCommand("verify", USAGE, async () => {
  const options = parseOptions({
    session: { type: "string" },
    url: { type: "string" },
    receipt: { type: "string", multiple: true },
  });
  const sessionId = options.session;
  if (sessionId === undefined) throw new UsageError("--session is required");
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sessionId)) {
    throw new UsageError(`--session must be a session id (a UUID), not ${sessionId}`);
  }
  const baseUrl = serviceUrl(options.url ?? defaultApiUrl());
  const receipts = (options.receipt ?? []).map(readReceipt);
  try {
    const verification = await verifyBidLog({ baseUrl, sessionId, receipts });
    console.log(describeVerification(verification));
    return verification.ok ? 0 : 1;
  } catch (error) {
    // One line, never a stack: no server, no such session, an answer that is not the contract's.
    if (error instanceof VerifyError) {
      console.error(`verify: ${error.message}`);
      return 1;
    }
    throw error;
  }
});
