import { z } from "zod";

/** The provider algorithms the contract admits (API.md, "Browsers"); anything else is refused. */
export type ProviderAlgorithm = "RS256" | "ES256";

const importAlgorithms: Record<ProviderAlgorithm, Parameters<SubtleCrypto["importKey"]>[2]> = {
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  ES256: { name: "ECDSA", namedCurve: "P-256" },
};

const jwkSchema = z.object({
  kid: z.string().min(1),
  kty: z.string(),
  alg: z.string().optional(),
  use: z.string().optional(),
  crv: z.string().optional(),
  n: z.string().optional(),
  e: z.string().optional(),
  x: z.string().optional(),
  y: z.string().optional(),
});
const keySetSchema = z.object({ keys: z.array(z.unknown()).max(100) });

type Jwk = z.infer<typeof jwkSchema>;

interface VerificationKey {
  alg: ProviderAlgorithm;
  key: CryptoKey;
}

/** The provider's key set could not be had, and there is none cached to fall back on. */
export class JwksUnavailableError extends Error {}

export interface JwksOptions {
  /** The least time between two fetches, whatever asks for them (an unknown `kid`, a stale set). */
  cooldownMs: number;
  /** A set older than this is refreshed behind the request that notices; that request uses the set it has. */
  maxAgeMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  onError?: (error: unknown) => void;
}

const DEFAULT_MAX_AGE_MS = 10 * 60_000;
const DEFAULT_TIMEOUT_MS = 5_000;
// With no key set at all, a failed fetch is retried sooner than the cooldown: nothing works until it succeeds.
const EMPTY_RETRY_MS = 5_000;

// RFC 7518 §3.3: RS256 keys are 2048 bits or more, i.e. a modulus of at least 256 bytes in base64url.
const MIN_RSA_MODULUS_CHARS = Math.ceil((2048 / 8) * (4 / 3));

function algorithmOf(jwk: Jwk): ProviderAlgorithm | undefined {
  if (jwk.use !== undefined && jwk.use !== "sig") return undefined;
  if (jwk.kty === "RSA" && (jwk.alg ?? "RS256") === "RS256") {
    return (jwk.n?.length ?? 0) >= MIN_RSA_MODULUS_CHARS ? "RS256" : undefined;
  }
  if (jwk.kty === "EC" && jwk.crv === "P-256" && (jwk.alg ?? "ES256") === "ES256") return "ES256";
  return undefined;
}

/** Imports only the public parameters, for verifying: a set that leaks private parts still yields public keys. */
async function importKey(entry: unknown): Promise<[string, VerificationKey] | undefined> {
  const parsed = jwkSchema.safeParse(entry);
  if (!parsed.success) return undefined;
  const jwk = parsed.data;
  const alg = algorithmOf(jwk);
  if (!alg) return undefined;
  const publicJwk: JsonWebKey =
    alg === "RS256" ? { kty: "RSA", n: jwk.n, e: jwk.e } : { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
  try {
    const key = await crypto.subtle.importKey("jwk", publicJwk, importAlgorithms[alg], false, ["verify"]);
    return [jwk.kid, { alg, key }];
  } catch {
    return undefined;
  }
}

/**
 * An identity provider's key set (JWKS), fetched once and kept for the
 * isolate's life. Requests never wait for a fetch except the first one and
 * one bearing a `kid` the set lacks, and fetches are at least `cooldownMs`
 * apart, so a stream of made-up `kid`s costs one fetch per cooldown, not one
 * per request. A failed fetch keeps the set already held: a provider outage
 * does not reach tokens signed with keys we know.
 */
export class JwksKeys {
  readonly #options: Required<Omit<JwksOptions, "onError">> & Pick<JwksOptions, "onError">;
  #keys: Map<string, VerificationKey> | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;

  constructor(
    readonly url: string,
    options: JwksOptions,
  ) {
    this.#options = {
      maxAgeMs: DEFAULT_MAX_AGE_MS,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      fetch: (input, init) => fetch(input, init),
      now: Date.now,
      ...options,
    };
  }

  /** Whether the set held now has `kid` (never fetches). */
  has(kid: string): boolean {
    return this.#keys?.has(kid) ?? false;
  }

  /**
   * The key for `kid` if the provider publishes it for `alg`. `waitUntil`
   * keeps a fetch alive past the request that started it, since other
   * requests may be waiting on the same one.
   */
  async key(
    kid: string,
    alg: ProviderAlgorithm,
    waitUntil?: (promise: Promise<unknown>) => void,
  ): Promise<CryptoKey | undefined> {
    if (!this.#keys) await this.#refresh(waitUntil);
    const keys = this.#keys;
    if (!keys) throw new JwksUnavailableError(`the key set at ${this.url} cannot be fetched`);
    let found = keys.get(kid);
    if (!found) {
      await this.#refresh(waitUntil);
      found = this.#keys?.get(kid);
    } else if (this.#options.now() - this.#fetchedAt >= this.#options.maxAgeMs) {
      // Stale: refreshed behind this request, which goes on with the key it has.
      void this.#refresh(waitUntil);
    }
    return found?.alg === alg ? found.key : undefined;
  }

  /** One fetch at a time and none within the cooldown; its failure leaves the held set as it was. */
  #refresh(waitUntil?: (promise: Promise<unknown>) => void): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    const now = this.#options.now();
    const interval = this.#keys
      ? this.#options.cooldownMs
      : Math.min(this.#options.cooldownMs, EMPTY_RETRY_MS);
    if (now - this.#attemptedAt < interval) return Promise.resolve();
    this.#attemptedAt = now;
    const attempt = this.#fetchKeys()
      .then(
        (keys) => {
          this.#keys = keys;
          this.#fetchedAt = this.#options.now();
        },
        (error: unknown) => this.#options.onError?.(error),
      )
      .finally(() => {
        this.#inFlight = undefined;
      });
    this.#inFlight = attempt;
    waitUntil?.(attempt);
    return attempt;
  }

  async #fetchKeys(): Promise<Map<string, VerificationKey>> {
    const response = await this.#options.fetch(this.url, {
      headers: { Accept: "application/json" },
      signal: AbortSignal.timeout(this.#options.timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`JWKS ${this.url} answered ${response.status}`);
    }
    const set = keySetSchema.safeParse(await response.json());
    if (!set.success) throw new Error(`JWKS ${this.url} is not a key set`);
    const imported = await Promise.all(set.data.keys.map(importKey));
    return new Map(imported.filter((entry) => entry !== undefined));
  }
}
