import type { WebhookEvent } from "../webhooks/events";
import { insertJsonRows, num, type Row } from "./sql-rows";

/** The outbox table: events waiting for the webhook queue, in the order they were written. */
export class OutboxRows {
  constructor(private readonly sql: SqlStorage) {}

  /** Inside the transaction of the change that caused them; an event already there (the same id) is not written twice. */
  write(events: readonly WebhookEvent[]): void {
    // In order: a burst of first bids outbids one bidder after another.
    insertJsonRows(
      this.sql,
      `INSERT OR IGNORE INTO outbox (id, event, created_at)
       SELECT value->>'id', value->'event', value->>'at' FROM json_each(?) ORDER BY key`,
      events.map((event) => ({ id: event.id, at: Date.parse(event.timestamp), event })),
    );
  }

  /** The oldest `limit` events not yet taken by the queue, with the position to delete through. */
  read(limit: number): { through: number; events: WebhookEvent[] } {
    const rows = this.sql.exec<Row>("SELECT pos, event FROM outbox ORDER BY pos LIMIT ?", limit).toArray();
    const last = rows.at(-1);
    return {
      through: last ? num(last, "pos") : 0,
      events: rows.map((row) => JSON.parse(String(row.event))),
    };
  }

  /** The queue has the events up to `pos`. */
  deleteThrough(pos: number): void {
    this.sql.exec("DELETE FROM outbox WHERE pos <= ?", pos);
  }

  size(): number {
    const row = this.sql.exec<Row>("SELECT count(*) AS n FROM outbox").toArray()[0];
    return row ? num(row, "n") : 0;
  }
}
