// Tokens as the stand-in identity provider (test/support/jwks-server.ts)
// would issue them, signed with its private keys by the corpus's JWS signer.
import { inject } from "vitest";
import { signJwt } from "../corpus/provider-tokens";

export { signJwt };

export const providerKeys = () => inject("providerKeys");

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** What the provider puts in a token for `sub` with `role`; an override set to undefined is left out. */
export function providerClaims(
  sub: number | string,
  role: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = nowSeconds();
  const claims: Record<string, unknown> = {
    sub: String(sub),
    role,
    iss: providerKeys().issuer,
    aud: providerKeys().audience,
    iat: now,
    nbf: now,
    exp: now + 600,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
}

/** A valid provider token: RS256 with the RSA key or ES256 with the EC key, `kid` set; header fields replaceable. */
export async function providerToken(
  key: "rsa" | "ec",
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const jwk = providerKeys()[key];
  return signJwt({ alg: jwk.alg, typ: "JWT", kid: jwk.kid, ...header }, claims, { alg: jwk.alg, jwk });
}

/**
 * A fresh token (its own `jti`, so no verified-token cache answers for it)
 * for the provider's person `subject`, a user unless `claims` say otherwise.
 */
export function personToken(
  key: "rsa" | "ec",
  subject: string,
  claims: Record<string, unknown> = {},
): Promise<string> {
  return providerToken(key, providerClaims(subject, "user", { jti: crypto.randomUUID(), ...claims }));
}
