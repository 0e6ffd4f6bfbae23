/** The bid rules: plain functions over plain data, no I/O. Times are epoch milliseconds. */
import { DEFAULT_CURRENCY } from "../api/currencies";
import type { SoftClose } from "./auction";

export interface SessionParams {
  id: string;
  title: string;
  startsAt: number;
  /** The end in force: the scheduled one, or later after soft-close extensions. */
  endsAt: number;
  minBid: number;
  minIncrement: number;
  createdAt: number;
  /** How many top bidders win. */
  units: number;
  /** The lowest winning amount; admins only. */
  reservePrice: number | null;
  softClose: SoftClose | null;
  /** No extension moves the end past this. */
  hardEndsAt: number;
  /** The end as created or last PATCHed. */
  scheduledEndsAt: number;
  extensions: number;
  /** ISO 4217 code of the amounts, which stay integers of minor units (v1.2). */
  currency: string;
}

/** What a session is created with: the v1 fields, and the auction rules and currency where given. */
export type NewSessionParams = Omit<
  SessionParams,
  "units" | "reservePrice" | "softClose" | "hardEndsAt" | "scheduledEndsAt" | "extensions" | "currency"
> &
  Partial<Pick<SessionParams, "units" | "reservePrice" | "softClose" | "hardEndsAt" | "currency">>;

const DEFAULT_HARD_END_AFTER_MS = 24 * 60 * 60 * 1000;

/** Fills the auction rules and currency a v1 client (or a Worker of an older version) leaves out. */
export function withAuctionDefaults(session: NewSessionParams): SessionParams {
  return {
    ...session,
    units: session.units ?? 1,
    reservePrice: session.reservePrice ?? null,
    softClose: session.softClose ?? null,
    hardEndsAt: session.hardEndsAt ?? session.endsAt + DEFAULT_HARD_END_AFTER_MS,
    scheduledEndsAt: session.endsAt,
    extensions: 0,
    currency: session.currency ?? DEFAULT_CURRENCY,
  };
}

export type SessionStatus = "scheduled" | "active" | "ended";

/** `active` from startsAt up to, not including, endsAt. */
export function sessionStatus(
  session: Pick<SessionParams, "startsAt" | "endsAt">,
  now: number,
): SessionStatus {
  if (now < session.startsAt) return "scheduled";
  return now < session.endsAt ? "active" : "ended";
}

export type BidRefusalCode =
  | "session_not_started"
  | "session_ended"
  | "bid_below_minimum"
  | "bid_increment_too_small"
  | "proxy_bids_need_single_unit";

export interface BidRefusal {
  code: BidRefusalCode;
  detail: string;
}

function refuseOutsideWindow(session: SessionParams, now: number): BidRefusal | null {
  const status = sessionStatus(session, now);
  if (status === "scheduled") {
    return {
      code: "session_not_started",
      detail: `Bidding opens at ${new Date(session.startsAt).toISOString()}.`,
    };
  }
  if (status === "ended") {
    return {
      code: "session_ended",
      detail: `Bidding closed at ${new Date(session.endsAt).toISOString()}.`,
    };
  }
  return null;
}

/** Why `amount` cannot replace the caller's `previous` live bid at `now`, or null when it can. */
export function refuseBid(
  session: SessionParams,
  previous: number | undefined,
  amount: number,
  now: number,
): BidRefusal | null {
  const outside = refuseOutsideWindow(session, now);
  if (outside) return outside;
  if (amount < session.minBid) {
    return { code: "bid_below_minimum", detail: `The minimum bid is ${session.minBid}.` };
  }
  if (previous !== undefined && amount < previous + session.minIncrement) {
    return {
      code: "bid_increment_too_small",
      detail: `Your bid is ${previous}; the next must be at least ${previous + session.minIncrement}.`,
    };
  }
  return null;
}

/** Why `maxAmount` cannot be the caller's new maximum at `now`, or null when it can. */
export function refuseMaximum(
  session: SessionParams,
  previous: { amount: number; maxAmount: number | null } | undefined,
  maxAmount: number,
  now: number,
): BidRefusal | null {
  if (session.units !== 1) {
    return {
      code: "proxy_bids_need_single_unit",
      detail: `Maximum bids need a session with one unit; this one has ${session.units}.`,
    };
  }
  const outside = refuseOutsideWindow(session, now);
  if (outside) return outside;
  if (maxAmount < session.minBid) {
    return { code: "bid_below_minimum", detail: `The minimum bid is ${session.minBid}.` };
  }
  const floor = Math.max(previous?.amount ?? 0, previous?.maxAmount ?? 0);
  if (previous !== undefined && maxAmount <= floor) {
    return {
      code: "bid_increment_too_small",
      detail: `Your ${floor === previous.amount ? "bid" : "maximum"} is ${floor}; a new maximum must be higher.`,
    };
  }
  return null;
}

export interface SessionChange {
  title?: string;
  endsAt?: number;
  softClose?: SoftClose | null;
  reservePrice?: number | null;
}

export interface ChangeRefusal {
  code: "invalid_request" | "session_ended" | "session_already_started";
  detail: string;
}

/** Applies a PATCH at `now`, or says why it cannot be applied. */
export function changeSession(
  session: SessionParams,
  change: SessionChange,
  now: number,
): SessionParams | { refused: ChangeRefusal } {
  const next: SessionParams = {
    ...session,
    title: change.title ?? session.title,
    endsAt: change.endsAt ?? session.endsAt,
    scheduledEndsAt: change.endsAt ?? session.scheduledEndsAt,
    softClose: change.softClose === undefined ? session.softClose : change.softClose,
    reservePrice: change.reservePrice === undefined ? session.reservePrice : change.reservePrice,
  };
  // What the request says is checked first (400), then whether the session may change (409).
  const invalid = (detail: string) => ({ refused: { code: "invalid_request" as const, detail } });
  if (next.endsAt <= next.startsAt) return invalid("endsAt: must be after startsAt");
  if (next.endsAt > next.hardEndsAt) {
    return invalid(`endsAt: must not be after hardEndsAt (${new Date(next.hardEndsAt).toISOString()})`);
  }
  if (next.reservePrice !== null && next.reservePrice < next.minBid) {
    return invalid("reservePrice: must be at least minBid");
  }
  const status = sessionStatus(session, now);
  if (change.endsAt !== undefined && status === "ended") {
    return { refused: { code: "session_ended", detail: "The session has ended; its results are final." } };
  }
  if ((change.softClose !== undefined || change.reservePrice !== undefined) && status !== "scheduled") {
    return {
      refused: {
        code: "session_already_started",
        detail: "softClose and reservePrice can only change before the session starts.",
      },
    };
  }
  return next;
}
