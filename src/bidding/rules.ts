/** The bid rules: plain functions over plain data, no I/O. Times are epoch milliseconds. */

export interface SessionParams {
  id: string;
  title: string;
  startsAt: number;
  endsAt: number;
  minBid: number;
  minIncrement: number;
  createdAt: number;
}

export type SessionStatus = "scheduled" | "active" | "ended";

/** `active` from startsAt up to, not including, endsAt. */
export function sessionStatus(session: SessionParams, now: number): SessionStatus {
  if (now < session.startsAt) return "scheduled";
  return now < session.endsAt ? "active" : "ended";
}

export type BidRefusalCode =
  | "session_not_started"
  | "session_ended"
  | "bid_below_minimum"
  | "bid_increment_too_small";

export interface BidRefusal {
  code: BidRefusalCode;
  detail: string;
}

/** Why `amount` cannot replace the caller's `previous` live bid at `now`, or null when it can. */
export function refuseBid(
  session: SessionParams,
  previous: number | undefined,
  amount: number,
  now: number,
): BidRefusal | null {
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

export interface SessionChange {
  title?: string;
  endsAt?: number;
}

/** Applies a PATCH, or says why it cannot be applied. */
export function changeSession(
  session: SessionParams,
  change: SessionChange,
): SessionParams | { invalid: string } {
  const next = {
    ...session,
    title: change.title ?? session.title,
    endsAt: change.endsAt ?? session.endsAt,
  };
  if (next.endsAt <= next.startsAt) return { invalid: "endsAt: must be after startsAt" };
  return next;
}
