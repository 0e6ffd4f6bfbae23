import type { WebhookEvent, WebhookMessage } from "../webhooks/events";
import type { OutboxRows } from "./outbox-rows";
import type { SessionLog } from "./session-log";

/** Events written this soon after one another leave in one `sendBatch`, off the bid path. */
const SEND_DELAY_MS = 100;
/** The most messages one `sendBatch` takes. */
const QUEUE_BATCH_MESSAGES = 100;

/**
 * The object's way to the webhook queue. Events are written to the outbox
 * in the transaction of the change that caused them; rows leave it only
 * after the queue has taken them, so an eviction or a failure in between
 * sends them again with the same ids (receivers deduplicate on
 * `webhook-id`). A failed send asks for the alarm, which tries again.
 */
export class WebhookOutbox {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sending: Promise<void> | null = null;
  private writtenWhileSending = false;
  /** Sends to the queue that failed in a row. */
  failures = 0;

  constructor(
    private readonly rows: OutboxRows,
    private readonly queue: Queue,
    private readonly onFailure: () => void,
    private readonly log: SessionLog,
  ) {}

  /** A send is under way or about to start; it asks for the alarm itself if it fails. */
  get busy(): boolean {
    return this.sending !== null || this.timer !== undefined;
  }

  /** Starts a send shortly, so the events of batches close together share one `sendBatch`. */
  sendSoon(): void {
    if (this.sending !== null) {
      this.writtenWhileSending = true;
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.send();
    }, SEND_DELAY_MS);
  }

  /** Sends the outbox, or joins the send under way. */
  send(): Promise<void> {
    this.sending ??= this.sendAll().finally(() => {
      this.sending = null;
      // Asked for once the send counts as finished, so the schedule plans the retry.
      if (this.failures > 0) this.onFailure();
      if (this.writtenWhileSending) {
        this.writtenWhileSending = false;
        this.sendSoon();
      }
    });
    return this.sending;
  }

  private async sendAll(): Promise<void> {
    for (;;) {
      const { through, events } = this.rows.read(QUEUE_BATCH_MESSAGES);
      if (events.length === 0) break;
      try {
        await this.queue.sendBatch(events.map((event: WebhookEvent) => ({ body: message(event) })));
      } catch (error) {
        this.failures += 1;
        const fields = { events: events.length, failures: this.failures, error: String(error) };
        this.log("error", "outbox_send_failed", fields);
        return;
      }
      this.rows.deleteThrough(through);
    }
    this.failures = 0;
  }
}

const message = (event: WebhookEvent): WebhookMessage => ({ kind: "event", event });
