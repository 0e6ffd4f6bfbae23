// Identity-provider tokens for the corpus (API.md, "Browsers"): JWS signing
// with RS256, ES256 and the algorithms the contract refuses, Web Crypto only
// so Node and workerd run the same code. Against a Worker that trusts the
// kit's provider keys (the test suite's stand-in provider, given with
// useProviderKeys) each forged token is refused for its own flaw; against one
// that does not (a plain `npm run dev`), keys made here are trusted by nobody
// and the same tokens must be refused all the same.
import type { TokenKit, TokenName } from "./tokens.js";

/** A JWK as JSON: enough of the type for both runtimes' Web Crypto. */
export interface Jwk {
  kty: string;
  kid?: string;
  alg?: string;
  crv?: string;
  n?: string;
  e?: string;
  d?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
  x?: string;
  y?: string;
}

/** The provider's private keys (with their published `kid`), the RSA public key as PEM, and its iss and aud. */
export interface ProviderKeys {
  rsa: Jwk & { kid: string; alg: "RS256" };
  ec: Jwk & { kid: string; alg: "ES256" };
  rsaPublicPem: string;
  issuer: string;
  audience: string;
}

export type JwsSigner =
  | { alg: "RS256" | "RS384" | "PS256" | "ES256"; jwk: Jwk }
  | { alg: "HS256"; secret: string }
  | { alg: "none" };

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

const encodePart = (value: unknown) => base64url(encoder.encode(JSON.stringify(value)));

const signAlgorithms = {
  RS256: { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, sign: { name: "RSASSA-PKCS1-v1_5" } },
  RS384: { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" }, sign: { name: "RSASSA-PKCS1-v1_5" } },
  PS256: { import: { name: "RSA-PSS", hash: "SHA-256" }, sign: { name: "RSA-PSS", saltLength: 32 } },
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
} as const;

async function signature(signer: JwsSigner, input: Uint8Array): Promise<Uint8Array> {
  if (signer.alg === "none") return new Uint8Array();
  if (signer.alg === "HS256") {
    const key = await crypto.subtle.importKey(
      "raw",
      encoder.encode(signer.secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, input));
  }
  const algorithm = signAlgorithms[signer.alg];
  // Without alg and key_ops the one private key signs under any of its algorithms.
  const { kty, crv, n, e, d, p, q, dp, dq, qi, x, y } = signer.jwk;
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty, crv, n, e, d, p, q, dp, dq, qi, x, y },
    algorithm.import,
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign(algorithm.sign, key, input));
}

/** A JWT with exactly this header and payload, signed by `signer`: the header's `alg` is not taken from it. */
export async function signJwt(header: object, payload: object, signer: JwsSigner): Promise<string> {
  const input = `${encodePart(header)}.${encodePart(payload)}`;
  return `${input}.${base64url(await signature(signer, encoder.encode(input)))}`;
}

async function privateJwk(type: "rsa" | "ec"): Promise<Jwk> {
  const pair =
    type === "rsa"
      ? await crypto.subtle.generateKey(
          {
            name: "RSASSA-PKCS1-v1_5",
            modulusLength: 2048,
            publicExponent: new Uint8Array([1, 0, 1]),
            hash: "SHA-256",
          },
          true,
          ["sign", "verify"],
        )
      : await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  if (!("privateKey" in pair)) throw new Error("expected a key pair");
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  if (jwk instanceof ArrayBuffer || typeof jwk.kty !== "string") throw new Error("expected a JWK");
  return { ...jwk, kty: jwk.kty };
}

/** Keys nobody publishes: the provider of a server that trusts no provider, or the wrong one. */
async function untrustedKeys(): Promise<ProviderKeys> {
  const [rsa, ec] = await Promise.all([privateJwk("rsa"), privateJwk("ec")]);
  return {
    rsa: { ...rsa, kid: "corpus-rsa", alg: "RS256" },
    ec: { ...ec, kid: "corpus-ec", alg: "ES256" },
    // Any PEM-looking text does for a server that has no RSA key to be confused with.
    rsaPublicPem:
      "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n",
    issuer: "https://issuer.corpus.test/",
    audience: "edge-bidding-api",
  };
}

const keysByKit = new WeakMap<TokenKit, Promise<ProviderKeys>>();

/** Signs this kit's provider tokens with `keys`, the ones the Worker under test trusts. */
export function useProviderKeys(kit: TokenKit, keys: ProviderKeys): void {
  keysByKit.set(kit, Promise.resolve(keys));
}

export function providerKeys(kit: TokenKit): Promise<ProviderKeys> {
  let keys = keysByKit.get(kit);
  if (!keys) {
    keys = untrustedKeys();
    keysByKit.set(kit, keys);
  }
  return keys;
}

/**
 * The provider's subject for `who`: a person of this run only, never one of
 * our user ids (API.md v1.2, "Identities": a provider's `sub` is not parsed).
 */
export function providerSubject(kit: TokenKit, who: TokenName): string {
  return `corpus|${kit.tag}|${who}`;
}

/**
 * `who`'s claims as the provider would issue them (iss, aud, nbf, the run's
 * subject, and a name that would give a user created by mistake the run's
 * prefix), some replaced; undefined leaves one out.
 */
export async function providerClaims(
  kit: TokenKit,
  who: TokenName,
  overrides: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const { issuer, audience } = await providerKeys(kit);
  const claims = kit.claims(who, {
    iss: issuer,
    aud: audience,
    nbf: kit.now,
    sub: providerSubject(kit, who),
    preferred_username: `corpus_${kit.tag}_p`,
    ...overrides,
  });
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
}

/** A provider token for `who`: RS256 with the RSA key or ES256 with the EC key, header fields replaceable. */
export async function providerToken(
  kit: TokenKit,
  who: TokenName,
  options: { key: "rsa" | "ec"; claims?: Record<string, unknown>; header?: Record<string, unknown> },
): Promise<string> {
  const jwk = (await providerKeys(kit))[options.key];
  const header = { alg: jwk.alg, typ: "JWT", kid: jwk.kid, ...options.header };
  return signJwt(header, await providerClaims(kit, who, options.claims), { alg: jwk.alg, jwk });
}
