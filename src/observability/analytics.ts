import type { ProblemCode } from "../api/problem";

/**
 * Workers Analytics Engine data points. One dataset, two kinds of rows:
 *
 * | column  | bid                            | flush                 |
 * |---------|--------------------------------|-----------------------|
 * | index1  | session id                     | session id            |
 * | blob1   | "bid"                          | "flush"               |
 * | blob2   | "accepted" or the problem code | "ok" or "failed"      |
 * | double1 | 1                              | rows sent             |
 * | double2 | amount (0 when refused)        | duration in ms        |
 */
export function recordBid(
  dataset: AnalyticsEngineDataset | undefined,
  sessionId: string,
  outcome: "accepted" | ProblemCode,
  amount: number,
): void {
  dataset?.writeDataPoint({
    indexes: [sessionId],
    blobs: ["bid", outcome],
    doubles: [1, outcome === "accepted" ? amount : 0],
  });
}

export function recordFlush(
  dataset: AnalyticsEngineDataset | undefined,
  sessionId: string,
  result: { ok: boolean; rows: number; ms: number },
): void {
  dataset?.writeDataPoint({
    indexes: [sessionId],
    blobs: ["flush", result.ok ? "ok" : "failed"],
    doubles: [result.rows, result.ms],
  });
}
