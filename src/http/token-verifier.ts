import { decode, verify } from "hono/jwt";
import { z } from "zod";
import { ApiError } from "../api/problem";
import { decimalId } from "../api/schemas";
import { positiveNumber } from "../config/config";
import type { Identity } from "../users/identities";
import { usernameFromClaims } from "../users/username-from-claims";
import { JwksKeys, type JwksOptions, JwksUnavailableError } from "./jwks";
import { TokenCache } from "./token-cache";

type JWTPayload = Awaited<ReturnType<typeof verify>>;

export type Role = "user" | "admin";

/**
 * Whom a verified token names. An HS256 token names one of our users by id
 * (its `sub`); a provider token names a person by (`iss`, `sub`), whatever the
 * shape of `sub`, with the username a new user would get from its claims.
 */
export type Principal =
  | { kind: "user"; role: Role; userId: number }
  | { kind: "identity"; role: Role; identity: Identity; username: string };

/** How tokens are checked, from the Worker's vars and secrets (README, Configuration). */
export interface TokenSettings {
  /** HS256 key; empty: HS256 tokens are refused. */
  secret: string;
  /** The identity provider's JWKS; empty: RS256 and ES256 tokens are refused. */
  jwksUrl: string;
  issuer: string;
  audiences: string[];
  /** The claim of provider tokens that holds `user` or `admin`. */
  roleClaim: string;
  jwksCooldownMs: number;
}

export function readTokenSettings(env: Env): TokenSettings {
  return {
    secret: env.JWT_SECRET || "",
    jwksUrl: (env.JWT_JWKS_URL || "").trim(),
    issuer: (env.JWT_ISSUER || "").trim(),
    audiences: (env.JWT_AUDIENCE || "")
      .split(",")
      .map((audience) => audience.trim())
      .filter(Boolean),
    roleClaim: (env.JWT_ROLE_CLAIM || "").trim() || "role",
    jwksCooldownMs: positiveNumber(env.JWT_JWKS_COOLDOWN_SECONDS, 30) * 1000,
  };
}

/** A few thousand bidders' tokens: at ~1 KiB each, a few MiB of the isolate's memory at most. */
const CACHE_CAPACITY = 4096;

const localClaimsSchema = z.object({ sub: decimalId, exp: z.number(), role: z.enum(["user", "admin"]) });
/**
 * OpenID Connect caps `sub` at 255 ASCII characters; any other character is
 * taken, but no control character, and no lone UTF-16 surrogate: stored as
 * UTF-8 it would become U+FFFD, and two subjects would share one account.
 */
const providerSubject = z.string().regex(/^[^\p{Cc}\p{Cs}]{1,255}$/u);
const providerClaimsSchema = z.object({ iss: z.string(), sub: providerSubject, exp: z.number() });
const providerRoleSchema = z.enum(["user", "admin"]).default("user");

interface Remembered {
  principal: Principal;
  /** The provider key that signed it: the token is only as good as that key is still published. */
  kid?: string;
}

type Verified =
  | { alg: "HS256"; payload: JWTPayload }
  | { alg: "RS256" | "ES256"; payload: JWTPayload; kid: string };

const badToken = () => new ApiError("unauthorized", "The token is malformed, badly signed or expired.");

async function checked(verification: Promise<JWTPayload>): Promise<JWTPayload> {
  try {
    return await verification;
  } catch {
    throw badToken();
  }
}

function logJwksError(error: unknown): void {
  console.error(
    JSON.stringify({
      level: "error",
      event: "jwks_fetch_failed",
      error: error instanceof Error ? error.message : String(error),
    }),
  );
}

/**
 * Turns a bearer token into a caller: HS256 with the shared secret (local
 * use), RS256 and ES256 with the provider's published keys. The algorithm is
 * taken from the token only to choose between these three; each path pins
 * its own, so a token cannot pick a key meant for another algorithm (an
 * HS256 token "signed" with the RSA public key meets the secret, not the key).
 */
export class TokenVerifier {
  readonly #cache = new TokenCache<Remembered>(CACHE_CAPACITY);
  readonly #jwks: JwksKeys | undefined;
  #hmacKey: Promise<CryptoKey> | undefined;

  constructor(
    readonly settings: TokenSettings,
    jwksOptions: Partial<JwksOptions> = {},
  ) {
    if (settings.jwksUrl) {
      if (!settings.issuer || settings.audiences.length === 0) {
        throw new Error("JWT_JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE");
      }
      this.#jwks = new JwksKeys(settings.jwksUrl, {
        cooldownMs: settings.jwksCooldownMs,
        onError: logJwksError,
        ...jwksOptions,
      });
    }
  }

  get configured(): boolean {
    return this.settings.secret !== "" || this.#jwks !== undefined;
  }

  async verify(token: string, waitUntil?: (promise: Promise<unknown>) => void): Promise<Principal> {
    const remembered = this.#cache.get(token, Math.floor(Date.now() / 1000));
    if (remembered) {
      if (remembered.kid === undefined || this.#jwks?.has(remembered.kid)) return remembered.principal;
      this.#cache.delete(token);
    }
    const verified = await this.#verifySignature(token, waitUntil);
    const { principal, exp } =
      verified.alg === "HS256" ? localPrincipal(verified.payload) : this.#providerPrincipal(verified.payload);
    const nbf = typeof verified.payload.nbf === "number" ? verified.payload.nbf : undefined;
    const kid = verified.alg === "HS256" ? undefined : verified.kid;
    this.#cache.set(token, { value: { principal, kid }, exp, nbf });
    return principal;
  }

  #providerPrincipal(payload: JWTPayload): { principal: Principal; exp: number } {
    const { roleClaim } = this.settings;
    const claims = providerClaimsSchema.safeParse(payload);
    if (!claims.success) {
      throw new ApiError(
        "unauthorized",
        "The token needs exp and sub claims, sub of 1–255 characters and no control characters.",
      );
    }
    const role = providerRoleSchema.safeParse(payload[roleClaim]);
    if (!role.success)
      throw new ApiError("unauthorized", `The token's ${roleClaim} claim is neither user nor admin.`);
    const { iss, sub, exp } = claims.data;
    const principal: Principal = {
      kind: "identity",
      role: role.data,
      identity: { issuer: iss, subject: sub },
      username: usernameFromClaims(payload),
    };
    return { principal, exp };
  }

  async #verifySignature(token: string, waitUntil?: (promise: Promise<unknown>) => void): Promise<Verified> {
    let alg: unknown;
    let kid: unknown;
    try {
      ({ alg, kid } = decode(token).header);
    } catch {
      throw badToken();
    }
    switch (alg) {
      case "HS256": {
        if (!this.settings.secret) throw badToken();
        return { alg, payload: await checked(verify(token, await this.#hmac(), "HS256")) };
      }
      case "RS256":
      case "ES256": {
        if (!this.#jwks) throw badToken();
        if (typeof kid !== "string") throw new ApiError("unauthorized", "The token names no key (kid).");
        const key = await this.#providerKey(kid, alg, waitUntil);
        const payload = await checked(
          verify(token, key, { alg, iss: this.settings.issuer, aud: this.settings.audiences, iat: false }),
        );
        return { alg, payload, kid };
      }
      default:
        throw badToken();
    }
  }

  async #providerKey(
    kid: string,
    alg: "RS256" | "ES256",
    waitUntil?: (promise: Promise<unknown>) => void,
  ): Promise<CryptoKey> {
    let key: CryptoKey | undefined;
    try {
      key = await this.#jwks?.key(kid, alg, waitUntil);
    } catch (error) {
      if (!(error instanceof JwksUnavailableError)) throw error;
      throw new ApiError(
        "service_unavailable",
        "The identity provider's keys cannot be fetched right now; try again shortly.",
        { "Retry-After": "5" },
        error,
      );
    }
    if (!key)
      throw new ApiError("unauthorized", "The token's key (kid) is not in the identity provider's key set.");
    return key;
  }

  /** The HMAC key, imported once per verifier rather than on every request. */
  #hmac(): Promise<CryptoKey> {
    this.#hmacKey ??= crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(this.settings.secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    return this.#hmacKey;
  }
}

/** HS256 tokens are ours: `sub` is our user id, `role` is required. */
function localPrincipal(payload: JWTPayload): { principal: Principal; exp: number } {
  const claims = localClaimsSchema.safeParse(payload);
  if (!claims.success)
    throw new ApiError("unauthorized", "The token needs sub (a user id), role and exp claims.");
  const { sub, role, exp } = claims.data;
  return { principal: { kind: "user", role, userId: sub }, exp };
}

const verifiers = new Map<string, TokenVerifier>();

/** One verifier per configuration and isolate, so its key set and token cache outlive the request. */
export function tokenVerifier(env: Env): TokenVerifier {
  const settings = readTokenSettings(env);
  const id = JSON.stringify(settings);
  let verifier = verifiers.get(id);
  if (!verifier) {
    verifier = new TokenVerifier(settings);
    verifiers.set(id, verifier);
  }
  return verifier;
}
