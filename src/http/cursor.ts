import { z } from "@hono/zod-openapi";
import { ApiError } from "../api/problem";
import { base64url, derivedKey, fromBase64url } from "./derived-keys";

/**
 * Opaque page cursors: `base64url(JSON).base64url(HMAC-SHA256)`. The JSON
 * holds the last row's sort key and the listing it belongs to; the MAC makes
 * any change to it (or a cursor of another listing, or one from another
 * deployment) a 400 instead of a query on values nobody checked.
 */
const MAX_CURSOR_LENGTH = 400;

/** The query parameter as the routes declare it: its shape only; `readCursor` checks the rest. */
export const CursorParam = z
  .string()
  .max(MAX_CURSOR_LENGTH, "is not a cursor this service issued")
  .regex(/^[A-Za-z0-9_-]{1,300}\.[A-Za-z0-9_-]{43}$/, "is not a cursor this service issued")
  .optional()
  .openapi({
    param: { name: "cursor", in: "query" },
    description: "Opaque: the `nextCursor` of the previous page",
  });

/** The key both listings page by: the last row's time (epoch ms) and its session id. */
export const TimeAndIdKey = z.tuple([
  z.number().int().min(-8_640_000_000_000_000).max(8_640_000_000_000_000),
  z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
]);

const encoder = new TextEncoder();

export async function issueCursor(env: Env, listing: string, key: unknown): Promise<string> {
  const payload = base64url(encoder.encode(JSON.stringify({ l: listing, k: key })));
  const mac = await crypto.subtle.sign("HMAC", await derivedKey(env, "cursor"), encoder.encode(payload));
  return `${payload}.${base64url(new Uint8Array(mac))}`;
}

const refused = () => new ApiError("invalid_request", "cursor: malformed, altered or of another listing");

/** The sort key a cursor carries, parsed with `schema`; anything but a cursor issued for `listing` is a 400. */
export async function readCursor<S extends z.ZodType>(
  env: Env,
  listing: string,
  cursor: string,
  schema: S,
): Promise<z.output<S>> {
  const [payload = "", mac = ""] = cursor.split(".");
  const macBytes = fromBase64url(mac);
  const payloadBytes = fromBase64url(payload);
  if (!macBytes || !payloadBytes) throw refused();
  const genuine = await crypto.subtle.verify(
    "HMAC",
    await derivedKey(env, "cursor"),
    macBytes,
    encoder.encode(payload),
  );
  if (!genuine) throw refused();
  let decoded: unknown;
  try {
    decoded = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(payloadBytes));
  } catch {
    throw refused();
  }
  const envelope = z.object({ l: z.literal(listing), k: z.unknown() }).safeParse(decoded);
  if (!envelope.success) throw refused();
  const key = schema.safeParse(envelope.data.k);
  if (!key.success) throw refused();
  return key.data;
}
