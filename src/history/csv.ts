import type { HistoryRow } from "../api/session-protocol";

export const CSV_HEADER = "seq,user_id,username,amount,placed_at,auto,hash\r\n";

/** RFC 4180: a text field in double quotes, its own quotes doubled; always quoted, whatever usernames may hold. */
export const csvText = (text: string): string => `"${text.replace(/"/g, '""')}"`;

/** One record, CRLF-terminated. Numbers, ISO times, booleans and hex links hold no comma, quote or line break. */
export function csvRecord(row: HistoryRow): string {
  const username = row.username === null ? "" : csvText(row.username);
  const placedAt = new Date(row.placedAt).toISOString();
  return `${row.seq},${row.userId},${username},${row.amount},${placedAt},${row.auto},${row.hash ?? ""}\r\n`;
}
