import { z } from "@hono/zod-openapi";
import { ISO_4217_CODES } from "./currencies";

/** A positive integer within JavaScript's exact range, written in decimal. */
export const decimalId = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/, "must be a positive integer")
  .transform(Number)
  .refine(Number.isSafeInteger, `must be at most ${Number.MAX_SAFE_INTEGER}`);

/** User ids are positive integers; in paths they arrive as decimal strings. */
export const UserIdParam = decimalId.openapi({
  param: { name: "id", in: "path" },
  type: "string",
  example: "42",
});

const uuidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const SessionIdParam = z
  .string()
  .regex(uuidPattern, "must be a UUID")
  .transform((id) => id.toLowerCase())
  .openapi({
    param: { name: "id", in: "path" },
    type: "string",
    format: "uuid",
    example: "0b8f3c5e-2f7a-4c61-9d1e-6a1f0e5b9c42",
  });

/** Money: an integer count of minor units, 1 … 10^12. */
export const Money = z.number().int().min(1).max(1_000_000_000_000).openapi({ example: 1500 });

/** A currency: an ISO 4217 code, in capitals (API.md v1.2, "Money"). */
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, "must be three capital letters, an ISO 4217 code such as USD")
  .refine(
    (code) => ISO_4217_CODES.has(code),
    "must be a currency code ISO 4217 lists, such as USD, EUR or JPY",
  )
  .openapi({ example: "EUR" });

export const Instant = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .openapi({ type: "string", format: "date-time", example: "2026-11-27T10:00:00.000Z" });

export const Username = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{3,32}$/, "must be 3–32 characters of A-Z a-z 0-9 _ . -")
  .openapi({ example: "alice_01" });

/** The `limit` query parameter of a paged or top-N route: 1 … `max`, `fallback` when absent. */
export function limitParam(max: number, fallback: number) {
  return z
    .string()
    .regex(/^[0-9]{1,3}$/, `must be an integer from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().min(1, "must be at least 1").max(max, `must be at most ${max}`))
    .optional()
    .openapi({
      param: { name: "limit", in: "query" },
      type: "integer",
      minimum: 1,
      maximum: max,
      default: fallback,
    });
}
