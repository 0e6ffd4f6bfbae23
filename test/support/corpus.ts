// The bad-input corpus (test/corpus/) inside workerd: its requests go to the
// Worker through `exports.default.fetch`, its state queries through the
// Worker's own database driver.
import { env, exports } from "cloudflare:workers";
import { z } from "zod";
import { withDatabase } from "../../src/db/client";
import type { SentRequest, Transport } from "../corpus/request";
import type { QueryRows } from "../corpus/snapshot";
import type { SignToken } from "../corpus/tokens";
import { tokenFor } from "./api";

const ORIGIN = "http://bidding.test";

/** What a `Request` changed of the case, or undefined: the split in test/corpus/raw-only.ts promised nothing. */
function changedByRequest(request: Request, sent: SentRequest): string | undefined {
  const url = new URL(request.url);
  if (`${url.pathname}${url.search}` !== sent.target) return `the target became ${url.pathname}${url.search}`;
  if (request.method !== sent.method) return `the method became ${request.method}`;
  for (const [name, value] of sent.headers) {
    if (request.headers.get(name) !== value)
      return `${name} became ${JSON.stringify(request.headers.get(name))}`;
  }
  return undefined;
}

export const workerTransport: Transport = async (sent) => {
  const started = performance.now();
  const request = new Request(`${ORIGIN}${sent.target}`, {
    method: sent.method,
    headers: sent.headers,
    body: sent.body,
  });
  const changed = changedByRequest(request, sent);
  if (changed !== undefined) throw new Error(`not sent, a Request cannot carry it: ${changed}`);
  const response = await exports.default.fetch(request);
  const body = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("Content-Type"),
    body,
    ms: performance.now() - started,
  };
};

/** Both drivers answer `execute` with a pg-style result; its type is the driver's, so it is checked here. */
const QueryResult = z.object({ rows: z.array(z.unknown()) });

export const queryRows: QueryRows = (query) =>
  withDatabase(env, async (db) => QueryResult.parse(await db.execute(query)).rows);

export const signTestToken: SignToken = ({ sub, role }, expiresInSeconds) =>
  tokenFor(sub, role, { expiresInSeconds });
