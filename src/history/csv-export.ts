import type { HistoryRow } from "../api/session-protocol";
import { connect, DatabaseUnavailable, isConnectionFailure } from "../db/client";
import { withMissingUsernames } from "../users/leaderboard";
import { CSV_HEADER, csvRecord } from "./csv";
import { MAX_PAGE_ROWS } from "./merge";
import { HistoryReader, type RunQuery } from "./reader";

/**
 * The whole history of a session, up to the bid it had reached when the
 * export started, as CSV produced one page (2,000 rows) at a time when the
 * reader asks for it: the stream queues at most one page ahead of the client,
 * so memory is bounded by a page or two whatever the session's size. One
 * database connection serves every page and is closed at the end, on a
 * cancelled download, or on an error.
 *
 * The first page is read before this returns, so an unknown session or an
 * unreachable database is still a problem document, not a broken 200.
 */
export async function exportHistoryCsv(env: Env, sessionId: string): Promise<ReadableStream<Uint8Array>> {
  let connection: Awaited<ReturnType<typeof connect>> | undefined;
  const query: RunQuery = async (work) => {
    connection ??= await connect(env);
    try {
      return await work(connection.db);
    } catch (error) {
      // As withDatabase does: an outage is a 503 the client may retry (before the first byte), a bug is not.
      throw isConnectionFailure(error) ? new DatabaseUnavailable(error) : error;
    }
  };
  const close = () => {
    connection?.close().catch(() => {});
    connection = undefined;
  };
  const reader = new HistoryReader(env, sessionId, query);
  let page: HistoryRow[] | undefined;
  try {
    page = (await reader.page(0, MAX_PAGE_ROWS)).bids;
  } catch (error) {
    close();
    throw error;
  }
  const lastSeq = reader.seq;
  const encoder = new TextEncoder();
  let afterSeq = 0;
  let header = CSV_HEADER;

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const rows = (page ?? (await reader.page(afterSeq, MAX_PAGE_ROWS)).bids).filter(
            (row) => row.seq <= lastSeq,
          );
          page = undefined;
          const named = await withMissingUsernames(env, rows);
          controller.enqueue(encoder.encode(header + named.map(csvRecord).join("")));
          header = "";
          afterSeq = rows.at(-1)?.seq ?? afterSeq;
          if (rows.length === 0 || afterSeq >= lastSeq) {
            close();
            controller.close();
          }
        } catch (error) {
          close();
          console.error(
            JSON.stringify({
              level: "error",
              event: "csv_export_failed",
              sessionId,
              afterSeq,
              error: String(error),
            }),
          );
          controller.error(error);
        }
      },
      cancel() {
        close();
      },
    },
    { highWaterMark: 1 },
  );
}
