import { createHmac } from "node:crypto";
import { derivedKeyBytes } from "../http/derived-keys";

/** Crockford's base32: no I, L, O or U, so a tag read aloud or retyped survives. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** 8 characters, 40 bits: two of 10,000 bidders in one session share a tag with probability ~4.5e-5. */
const TAG_CHARS = 8;

/**
 * Bidders as the public history shows them: `Bidder 7KQ2M9XD`, a tag of
 * HMAC(key, "sessionId:userId"). The same bidder has the same tag throughout
 * a session; the session id in the MAC makes a bidder's tags in two sessions
 * unrelated, and without the key no tag can be traced to a user id (user ids
 * are small integers: a plain hash would be reversed by trying them).
 *
 * The object computes a bid's pseudonym when it accepts the bid and stores it
 * with the history row, since the bid log's link commits to it (a new secret
 * must not break old chains). Pages show the stored one; rows stored before
 * the bid log existed get it computed here, as they always did.
 */
export function pseudonymOf(key: Uint8Array, sessionId: string, userId: number): string {
  return `Bidder ${base32Tag(createHmac("sha256", key).update(`${sessionId}:${userId}`).digest())}`;
}

/** Pseudonyms, each computed once per holder: synchronous (node:crypto), so usable inside the batch decision. */
export class Pseudonyms {
  private sessionId = "";
  private readonly known = new Map<number, string>();

  constructor(private readonly jwtSecret: string | undefined) {}

  of(sessionId: string, userId: number): string {
    if (sessionId !== this.sessionId) {
      this.known.clear();
      this.sessionId = sessionId;
    }
    let name = this.known.get(userId);
    if (name === undefined) {
      name = pseudonymOf(derivedKeyBytes(this.jwtSecret, "pseudonym"), sessionId, userId);
      this.known.set(userId, name);
    }
    return name;
  }
}

/** The first 40 bits of `bytes` in base32. */
function base32Tag(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < TAG_CHARS) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === TAG_CHARS) break;
  }
  return out;
}
