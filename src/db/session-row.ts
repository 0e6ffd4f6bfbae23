import { eq } from "drizzle-orm";
import type { NewSessionParams } from "../bidding/rules";
import { withDatabase } from "./client";
import { biddingSessions } from "./schema";

/** The session as PostgreSQL has it (written when it was created), or undefined for an unknown id. */
export async function readSessionParams(env: Env, id: string): Promise<NewSessionParams | undefined> {
  const [row] = await withDatabase(env, (db) =>
    db.select().from(biddingSessions).where(eq(biddingSessions.id, id)),
  );
  if (!row) return undefined;
  return {
    id: row.id,
    title: row.title,
    startsAt: row.startsAt.getTime(),
    endsAt: row.endsAt.getTime(),
    minBid: row.minBid,
    minIncrement: row.minIncrement,
    createdAt: row.createdAt.getTime(),
    units: row.units,
    reservePrice: row.reservePrice,
    softClose:
      row.softCloseWindowSeconds === null || row.softCloseExtendSeconds === null
        ? null
        : { windowSeconds: row.softCloseWindowSeconds, extendSeconds: row.softCloseExtendSeconds },
    hardEndsAt: row.hardEndsAt?.getTime(),
    currency: row.currency,
  };
}
