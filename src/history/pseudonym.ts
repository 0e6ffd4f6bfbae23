import { derivedKey } from "../http/derived-keys";

/** Crockford's base32: no I, L, O or U, so a tag read aloud or retyped survives. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** 8 characters, 40 bits: two of 10,000 bidders in one session share a tag with probability ~4.5e-5. */
const TAG_CHARS = 8;

/**
 * Bidders as the public history shows them: `Bidder 7KQ2M9XD`, a tag of
 * HMAC(key, "sessionId:userId"). The same bidder has the same tag throughout
 * a session, in pages from PostgreSQL and from the object alike, with
 * nothing stored; the session id in the MAC makes a bidder's tags in two
 * sessions unrelated, and without the key no tag can be traced to a user id
 * (user ids are small integers: a plain hash would be reversed by trying them).
 */
export async function pseudonymizer(
  env: Env,
  sessionId: string,
): Promise<(userId: number) => Promise<string>> {
  const key = await derivedKey(env, "pseudonym");
  const encoder = new TextEncoder();
  const known = new Map<number, Promise<string>>();
  return (userId) => {
    let tag = known.get(userId);
    if (!tag) {
      tag = crypto.subtle
        .sign("HMAC", key, encoder.encode(`${sessionId}:${userId}`))
        .then((mac) => `Bidder ${base32Tag(new Uint8Array(mac))}`);
      known.set(userId, tag);
    }
    return tag;
  };
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
