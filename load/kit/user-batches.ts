// Users for a measurement, created through POST /v1/users/batch in bodies under
// the API's 16 KiB limit, each with a user token for its bids.

import type { Bidder } from "../bids/open-loop.js";
import { signUserToken } from "./admin-token.js";
import type { BiddingApi } from "./api.js";

/** The API refuses bodies over 16 KiB; batches stay a little below. */
const MAX_BATCH_BYTES = 16 * 1024 - 512;
const MAX_BATCH_USERS = 1000;

export interface CreatedBidder extends Bidder {
  username: string;
}

/** Creates `usernames` in as few batches as the body limit allows; returns them with tokens, in order. */
export async function createBidders(
  api: BiddingApi,
  adminToken: string,
  usernames: readonly string[],
  tokenSeconds: number,
): Promise<CreatedBidder[]> {
  const longest = Math.max(1, ...usernames.map((name) => JSON.stringify(name).length + 1));
  const perBatch = Math.max(1, Math.min(MAX_BATCH_USERS, Math.floor(MAX_BATCH_BYTES / longest)));
  const bidders: CreatedBidder[] = [];
  for (let start = 0; start < usernames.length; start += perBatch) {
    const created = await api.createUsers(adminToken, usernames.slice(start, start + perBatch));
    for (const user of created) {
      bidders.push({ ...user, token: await signUserToken(user.id, tokenSeconds) });
    }
  }
  return bidders;
}
