import { describe, expect, it } from "vitest";
import {
  changeSession,
  refuseBid,
  refuseMaximum,
  type SessionParams,
  sessionStatus,
  withAuctionDefaults,
} from "../../src/bidding/rules";

const session: SessionParams = withAuctionDefaults({
  id: "s",
  title: "t",
  startsAt: 1_000,
  endsAt: 2_000,
  minBid: 100,
  minIncrement: 10,
  createdAt: 0,
});

describe("sessionStatus", () => {
  it("is scheduled before startsAt, active from startsAt, ended at endsAt", () => {
    expect(sessionStatus(session, 999)).toBe("scheduled");
    expect(sessionStatus(session, 1_000)).toBe("active");
    expect(sessionStatus(session, 1_999)).toBe("active");
    expect(sessionStatus(session, 2_000)).toBe("ended");
  });
});

describe("refuseBid", () => {
  it("refuses bids outside the window before looking at the amount", () => {
    expect(refuseBid(session, undefined, 1, 500)?.code).toBe("session_not_started");
    expect(refuseBid(session, undefined, 1_000_000, 2_000)?.code).toBe("session_ended");
  });

  it("takes a first bid at exactly the minimum and refuses one below it", () => {
    expect(refuseBid(session, undefined, 100, 1_500)).toBeNull();
    expect(refuseBid(session, undefined, 99, 1_500)?.code).toBe("bid_below_minimum");
  });

  it("needs a raise of at least minIncrement over the caller's live bid", () => {
    expect(refuseBid(session, 150, 160, 1_500)).toBeNull();
    const refusal = refuseBid(session, 150, 159, 1_500);
    expect(refusal?.code).toBe("bid_increment_too_small");
    expect(refusal?.detail).toContain("160");
    expect(refuseBid(session, 150, 150, 1_500)?.code).toBe("bid_increment_too_small");
    expect(refuseBid(session, 150, 140, 1_500)?.code).toBe("bid_increment_too_small");
  });
});

describe("changeSession", () => {
  it("ends early or extends, keeping fields that were not sent", () => {
    const ended = changeSession(session, { endsAt: 1_200 }, 1_100);
    expect(ended).toEqual({ ...session, endsAt: 1_200, scheduledEndsAt: 1_200 });
    expect(changeSession(session, { title: "new" }, 1_100)).toEqual({ ...session, title: "new" });
  });

  it("refuses an end at or before the start, or past the hard end", () => {
    expect(changeSession(session, { endsAt: 1_000 }, 500)).toEqual({
      refused: { code: "invalid_request", detail: "endsAt: must be after startsAt" },
    });
    expect(changeSession(session, { endsAt: session.hardEndsAt + 1 }, 500)).toMatchObject({
      refused: { code: "invalid_request" },
    });
  });

  it("keeps an ended session final, and the rules fixed once bidding opened", () => {
    expect(changeSession(session, { endsAt: 5_000 }, 2_000)).toMatchObject({
      refused: { code: "session_ended" },
    });
    expect(changeSession(session, { title: "renamed after the end" }, 2_000)).toMatchObject({
      title: "renamed after the end",
    });
    const rule = { windowSeconds: 60, extendSeconds: 30 };
    expect(changeSession(session, { softClose: rule }, 1_500)).toMatchObject({
      refused: { code: "session_already_started" },
    });
    expect(changeSession(session, { reservePrice: 500 }, 500)).toMatchObject({ reservePrice: 500 });
    expect(changeSession(session, { reservePrice: 50 }, 500)).toMatchObject({
      refused: { code: "invalid_request" },
    });
  });
});

describe("refuseMaximum", () => {
  it("needs one unit, the window, the minimum, and more than the caller's bid and maximum", () => {
    expect(refuseMaximum({ ...session, units: 3 }, undefined, 500, 1_500)?.code).toBe(
      "proxy_bids_need_single_unit",
    );
    expect(refuseMaximum(session, undefined, 500, 2_000)?.code).toBe("session_ended");
    expect(refuseMaximum(session, undefined, 99, 1_500)?.code).toBe("bid_below_minimum");
    expect(refuseMaximum(session, undefined, 100, 1_500)).toBeNull();
    expect(refuseMaximum(session, { amount: 300, maxAmount: null }, 300, 1_500)?.code).toBe(
      "bid_increment_too_small",
    );
    expect(refuseMaximum(session, { amount: 300, maxAmount: 800 }, 700, 1_500)?.code).toBe(
      "bid_increment_too_small",
    );
    expect(refuseMaximum(session, { amount: 300, maxAmount: 800 }, 801, 1_500)).toBeNull();
  });
});
