// The admin's webhook calls (API.md, "Notifications"): subscribe an endpoint,
// read its delivery status, unsubscribe. The contract's own schemas.
import type { z } from "zod";
import {
  CreatedWebhookSchema,
  type WebhookDeliveryStatusSchema,
  WebhookListSchema,
} from "../../src/http/contract.js";
import { expectJson, type HttpClient } from "./http.js";

export type CreatedWebhook = z.infer<typeof CreatedWebhookSchema>;
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatusSchema>;

export const ALL_WEBHOOK_EVENTS = ["bid.outbid", "session.extended", "session.ended"] as const;

export class WebhookSubscriptions {
  constructor(
    private readonly client: HttpClient,
    private readonly adminToken: string,
  ) {}

  async create(url: string, events: readonly string[] = ALL_WEBHOOK_EVENTS): Promise<CreatedWebhook> {
    const response = await this.client.request("POST", "/v1/webhooks", {
      token: this.adminToken,
      body: { url, events },
    });
    return expectJson(response, 201, CreatedWebhookSchema, "POST /v1/webhooks");
  }

  /** The service's own count of what it delivered to `id`. */
  async status(id: string): Promise<WebhookDeliveryStatus> {
    const response = await this.client.request("GET", "/v1/webhooks", { token: this.adminToken });
    const found = expectJson(response, 200, WebhookListSchema, "GET /v1/webhooks").webhooks.find(
      (webhook) => webhook.id === id,
    );
    if (!found) throw new Error(`GET /v1/webhooks: no webhook ${id}`);
    return found.delivery;
  }

  async remove(id: string): Promise<void> {
    const response = await this.client.request("DELETE", `/v1/webhooks/${id}`, { token: this.adminToken });
    if (response.status !== 204) {
      throw new Error(`DELETE /v1/webhooks/${id}: HTTP ${response.status} ${response.text.slice(0, 200)}`);
    }
  }
}
