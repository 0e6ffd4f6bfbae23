import { createHmac } from "node:crypto";

/**
 * HMAC keys for the service's own tokens (list cursors, bidder pseudonyms),
 * each derived from JWT_SECRET under a label of its own, so no value made
 * for one purpose verifies as another and none is a JWT signature.
 */
export type KeyPurpose = "cursor" | "pseudonym";

const labels: Record<KeyPurpose, string> = {
  cursor: "edge-bidding-api list cursor v1",
  pseudonym: "edge-bidding-api bidder pseudonym v1",
};

const encoder = new TextEncoder();
const hmac = { name: "HMAC", hash: "SHA-256" } as const;

/** Per isolate: the secret they were derived from, and the keys. */
let derived: { secret: string; keys: Map<KeyPurpose, Promise<CryptoKey>> } | undefined;

async function derive(secret: string, purpose: KeyPurpose): Promise<CryptoKey> {
  const master = await crypto.subtle.importKey("raw", encoder.encode(secret), hmac, false, ["sign"]);
  const bytes = await crypto.subtle.sign("HMAC", master, encoder.encode(labels[purpose]));
  return crypto.subtle.importKey("raw", bytes, hmac, false, ["sign", "verify"]);
}

/** The secret every key is derived from. */
function requiredSecret(secret: string | undefined): string {
  // Without it there is nothing secret to derive from: a deployment with provider tokens only must still set one.
  if (!secret) throw new Error("JWT_SECRET is required for list cursors and bidder pseudonyms");
  return secret;
}

export function derivedKey(env: Env, purpose: KeyPurpose): Promise<CryptoKey> {
  const secret = requiredSecret(env.JWT_SECRET);
  if (derived?.secret !== secret) derived = { secret, keys: new Map() };
  const keys = derived.keys;
  let key = keys.get(purpose);
  if (!key) {
    key = derive(secret, purpose);
    keys.set(purpose, key);
    // A failed derivation is tried again by the next request, not remembered.
    key.catch(() => keys.delete(purpose));
  }
  return key;
}

/** Per isolate: the secret the raw keys were derived from, and the keys. */
let derivedRaw: { secret: string; keys: Map<KeyPurpose, Uint8Array> } | undefined;

/**
 * The same key as `derivedKey`, as bytes for node:crypto's synchronous HMAC:
 * the session object fixes a bid's pseudonym inside its synchronous decision.
 */
export function derivedKeyBytes(jwtSecret: string | undefined, purpose: KeyPurpose): Uint8Array {
  const secret = requiredSecret(jwtSecret);
  if (derivedRaw?.secret !== secret) derivedRaw = { secret, keys: new Map() };
  let key = derivedRaw.keys.get(purpose);
  if (!key) {
    key = createHmac("sha256", secret).update(labels[purpose]).digest();
    derivedRaw.keys.set(purpose, key);
  }
  return key;
}

export function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The bytes of unpadded base64url text, or undefined when it is not that. */
export function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}
