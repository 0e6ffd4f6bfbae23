// Checks a delivery's signature the way a receiver would (Standard Webhooks,
// v1), on WebCrypto only, so the tests (in workerd) and the webhook receiver
// (tools/webhook-receiver.ts, in Node) verify with the same code.

/** What a receiver has of a delivery: its headers (lower-case names) and its raw body. */
export interface SignedDelivery {
  headers: Record<string, string | undefined>;
  body: string;
}

export async function hasValidSignature(secret: string, request: SignedDelivery): Promise<boolean> {
  const id = request.headers["webhook-id"];
  const timestamp = request.headers["webhook-timestamp"];
  const signatures = request.headers["webhook-signature"];
  if (!id || !timestamp || !signatures || !secret.startsWith("whsec_")) return false;
  const key = await crypto.subtle.importKey(
    "raw",
    Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  for (const signature of signatures.split(" ")) {
    const [version, mac] = signature.split(",");
    if (version !== "v1" || !mac) continue;
    const bytes = Uint8Array.from(atob(mac), (c) => c.charCodeAt(0));
    const content = new TextEncoder().encode(`${id}.${timestamp}.${request.body}`);
    if (await crypto.subtle.verify("HMAC", key, bytes, content)) return true;
  }
  return false;
}
