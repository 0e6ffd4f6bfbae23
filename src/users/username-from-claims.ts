// The username a provider's new user gets (API.md v1.2, "Identities"): the
// first name the token offers, normalised to the username rules (3–32 of
// [A-Za-z0-9_.-]), short enough that a suffix still fits when it is taken.

/** The claims that may hold a display name, in the order they are preferred; then `email`'s local part. */
const NAME_CLAIMS = ["preferred_username", "nickname", "name"] as const;

const BASE_MAX_LENGTH = 24;
const MIN_LENGTH = 3;
const SUFFIX_LENGTH = 6;
const SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const USERNAME_CHARACTER = /^[A-Za-z0-9_.-]$/;

function offeredName(claims: Readonly<Record<string, unknown>>): string {
  for (const claim of NAME_CLAIMS) {
    const value = claims[claim];
    if (typeof value === "string" && value.trim() !== "") return value;
  }
  const email = claims.email;
  if (typeof email === "string") {
    // The last @ ends the local part (a quoted local part may hold another).
    const local = email.slice(0, Math.max(0, email.lastIndexOf("@")));
    if (local.trim() !== "") return local;
  }
  return "user";
}

/** Each character outside the rules becomes `_` (one per character, not per UTF-16 unit), cut to 24, padded to 3. */
export function normaliseUsername(name: string): string {
  const allowed = Array.from(name.trim(), (ch) => (USERNAME_CHARACTER.test(ch) ? ch : "_")).join("");
  return allowed.slice(0, BASE_MAX_LENGTH).padEnd(MIN_LENGTH, "_");
}

/** The username a token's claims ask for, before any suffix. */
export function usernameFromClaims(claims: Readonly<Record<string, unknown>>): string {
  return normaliseUsername(offeredName(claims));
}

/** `base` with `_` and six random letters or digits, for when `base` is taken (at most 31 characters). */
export function withRandomSuffix(base: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SUFFIX_LENGTH));
  // 256 is not a multiple of 36: the first 4 letters come up a little more often, which costs nothing here.
  const suffix = Array.from(bytes, (byte) => SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length]).join("");
  return `${base}_${suffix}`;
}
