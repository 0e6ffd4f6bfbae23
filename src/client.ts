// A typed client for TypeScript consumers: Hono's `hc` over the Worker's own
// route types, so paths, params, bodies and answers follow the routes'
// schemas (the ones /openapi.json is generated from). Importing it pulls in
// hono/client only; the Worker is imported for its types alone.
//
//   import { biddingClient } from "edge-bidding-api/client";
//   const api = biddingClient("https://bidding.example", { token });
//   const res = await api.v1.sessions[":id"].bids.$post({ param: { id }, json: { amount: 150 } });
//   if (res.status === 201) console.log((await res.json()).rank);
import { type ClientRequestOptions, hc } from "hono/client";
import type { AppType } from "./worker";

export type BiddingClient = ReturnType<typeof hc<AppType>>;

export interface BiddingClientOptions extends ClientRequestOptions {
  /** Sent as `Authorization: Bearer …` on every request. */
  token?: string;
}

export function biddingClient(baseUrl: string, options: BiddingClientOptions = {}): BiddingClient {
  const { token, headers, ...rest } = options;
  if (token === undefined) return hc<AppType>(baseUrl, { headers, ...rest });
  return hc<AppType>(baseUrl, {
    ...rest,
    headers: async () => ({
      ...(typeof headers === "function" ? await headers() : headers),
      Authorization: `Bearer ${token}`,
    }),
  });
}
