import { decode, verify } from "hono/jwt";
import { z } from "zod";
import { positiveNumber } from "../config";
import { JwksKeys, type JwksOptions, JwksUnavailableError } from "./jwks";
import { ApiError } from "./problem";
import { decimalId } from "./schemas";
import { TokenCache } from "./token-cache";

type JWTPayload = Awaited<ReturnType<typeof verify>>;

export type Role = "user" | "admin";

export interface Caller {
  userId: number;
  role: Role;
}

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

const claimsSchema = z.object({ sub: decimalId, exp: z.number() });
const roleSchema = z.enum(["user", "admin"]);

interface Remembered {
  caller: Caller;
  /** The provider key that signed it: the token is only as good as that key is still published. */
  kid?: string;
}

interface Verified {
  payload: JWTPayload;
  roleClaim: string;
  kid?: string;
}

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

  async verify(token: string, waitUntil?: (promise: Promise<unknown>) => void): Promise<Caller> {
    const remembered = this.#cache.get(token, Math.floor(Date.now() / 1000));
    if (remembered) {
      if (remembered.kid === undefined || this.#jwks?.has(remembered.kid)) return remembered.caller;
      this.#cache.delete(token);
    }
    const { payload, roleClaim, kid } = await this.#verifySignature(token, waitUntil);
    const claims = claimsSchema.safeParse(payload);
    const role = roleSchema.safeParse(payload[roleClaim]);
    if (!claims.success || !role.success) {
      throw new ApiError("unauthorized", `The token needs sub (a user id), ${roleClaim} and exp claims.`);
    }
    const caller: Caller = { userId: claims.data.sub, role: role.data };
    const nbf = typeof payload.nbf === "number" ? payload.nbf : undefined;
    this.#cache.set(token, { value: { caller, kid }, exp: claims.data.exp, nbf });
    return caller;
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
        return { payload: await checked(verify(token, await this.#hmac(), "HS256")), roleClaim: "role" };
      }
      case "RS256":
      case "ES256": {
        if (!this.#jwks) throw badToken();
        if (typeof kid !== "string") throw new ApiError("unauthorized", "The token names no key (kid).");
        const key = await this.#providerKey(kid, alg, waitUntil);
        const payload = await checked(
          verify(token, key, { alg, iss: this.settings.issuer, aud: this.settings.audiences, iat: false }),
        );
        return { payload, roleClaim: this.settings.roleClaim, kid };
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
