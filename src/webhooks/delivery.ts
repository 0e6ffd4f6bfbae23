import type { WebhookEvent } from "./events";
import { webhookSignature } from "./signature";
import { checkWebhookUrl } from "./url-policy";

/** Redirects followed per attempt, each target checked like the endpoint itself. */
const MAX_REDIRECTS = 3;

export type DeliveryOutcome = { ok: true; status: number } | { ok: false; error: string };

export interface DeliverySettings {
  allowLoopback: boolean;
  timeoutMs: number;
}

/** The body a receiver gets: Standard Webhooks' `type`, `timestamp` and `data`. */
export const webhookBody = (event: WebhookEvent): string =>
  JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });

/**
 * One signed POST of `event` to `url`. Redirects are followed here, at most
 * MAX_REDIRECTS, and every target is checked again first, so a public URL
 * cannot bounce the request to an internal address. 2xx is a delivery;
 * anything else, a timeout or a refused redirect is a failure to retry.
 */
export async function deliver(
  url: string,
  secret: string,
  event: WebhookEvent,
  settings: DeliverySettings,
): Promise<DeliveryOutcome> {
  const body = webhookBody(event);
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    "Content-Type": "application/json",
    "User-Agent": "edge-bidding-api-webhooks",
    "webhook-id": event.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await webhookSignature(secret, event.id, timestamp, body),
  };
  const signal = AbortSignal.timeout(settings.timeoutMs);
  let target = url;
  try {
    for (let hop = 0; ; hop++) {
      const res = await fetch(target, { method: "POST", headers, body, redirect: "manual", signal });
      const location = res.headers.get("Location");
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
      if (res.status < 300 || res.status >= 400 || location === null) {
        return { ok: false, error: `HTTP ${res.status}` };
      }
      if (hop >= MAX_REDIRECTS) return { ok: false, error: `more than ${MAX_REDIRECTS} redirects` };
      const next = new URL(location, target).toString();
      const verdict = checkWebhookUrl(next, settings.allowLoopback);
      if (!verdict.ok) return { ok: false, error: `redirect refused: ${verdict.reason}` };
      target = next;
    }
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      ok: false,
      error: timedOut ? `no answer within ${settings.timeoutMs} ms` : String(error),
    };
  }
}
