// Many requests at the same instant, each on its own keep-alive connection
// opened (and used once) beforehand, so the burst measures the server's
// answers and not TCP handshakes: how long until all are answered, and each one.
import { setTimeout as sleep } from "node:timers/promises";
import { forEachConcurrently } from "../kit/concurrency.js";
import { errorLabel, RawConnection } from "../kit/http.js";
import { type LatencySummary, summarize } from "../kit/report.js";

export interface BurstResult {
  connections: number;
  /** From the first write until the last answer (or failure). */
  allAnsweredMs: number;
  /** Connections the server had closed after the warm-up, opened again just before the burst. */
  reopened: number;
  outcomes: Record<string, number>;
  /** Of each answer, from the first write. */
  latency: LatencySummary;
}

export interface Burst {
  /** Writes request i on connection i, all in one go; `onAnswer` gets each status (0: no answer). */
  fire(
    requests: readonly string[],
    onAnswer?: (index: number, status: number) => void,
    timeoutMs?: number,
  ): Promise<BurstResult>;
  close(): void;
}

const WARM_CONCURRENCY = 100;
/** A moment of quiet between the warm-up and the burst. */
const SETTLE_MS = 300;

/** Opens `connections` keep-alive connections and sends `warmRequest` once on each. */
export async function openBurst(url: URL, connections: number, warmRequest: string): Promise<Burst> {
  const opened = Array.from({ length: connections }, () => new RawConnection(url));
  const closeAll = () => {
    for (const connection of opened) connection.close();
  };
  await forEachConcurrently(opened, WARM_CONCURRENCY, async (connection) => {
    const answer = await connection.send(warmRequest);
    if (answer.status >= 300) throw new Error(`warm-up request answered ${answer.status}`);
  }).catch((error: unknown) => {
    closeAll();
    throw error;
  });
  await sleep(SETTLE_MS);

  const fire: Burst["fire"] = async (requests, onAnswer, timeoutMs = 60_000) => {
    if (requests.length !== opened.length) {
      throw new Error(`${requests.length} requests for ${opened.length} connections`);
    }
    // A server with a short keep-alive timeout may have closed the first ones meanwhile.
    const closed = opened.filter((connection) => !connection.open);
    await Promise.all(closed.map((connection) => connection.connect()));
    const outcomes = new Map<string, number>();
    const latencies: number[] = [];
    const start = performance.now();
    await Promise.all(
      opened.map(async (connection, index) => {
        let label: string;
        let status = 0;
        try {
          status = (await connection.send(requests[index] ?? "", timeoutMs)).status;
          label = String(status);
        } catch (error) {
          label = errorLabel(error);
        }
        latencies.push(performance.now() - start);
        outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
        onAnswer?.(index, status);
      }),
    );
    return {
      connections: opened.length,
      allAnsweredMs: performance.now() - start,
      reopened: closed.length,
      outcomes: Object.fromEntries(outcomes),
      latency: summarize(latencies),
    };
  };
  return { fire, close: closeAll };
}
