import { describe, expect, it } from "vitest";
import { changeSession, refuseBid, type SessionParams, sessionStatus } from "../../src/bidding/rules";

const session: SessionParams = {
  id: "s",
  title: "t",
  startsAt: 1_000,
  endsAt: 2_000,
  minBid: 100,
  minIncrement: 10,
  createdAt: 0,
};

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
    const ended = changeSession(session, { endsAt: 1_200 });
    expect(ended).toEqual({ ...session, endsAt: 1_200 });
    expect(changeSession(session, { title: "new" })).toEqual({ ...session, title: "new" });
  });

  it("refuses an end at or before the start", () => {
    expect(changeSession(session, { endsAt: 1_000 })).toEqual({ invalid: "endsAt: must be after startsAt" });
  });
});
