// Tokens for the corpus: the fixtures' valid ones (signed by the signer the
// caller passes: tools/token.ts live, the tests' own in workerd) and a kit
// that builds every kind of bad one: other algorithms, other secrets, missing
// or odd claims. Web Crypto only, so Node and workerd run the same code.

/** Whose valid token a case sends: the admin, the three fixture bidders, or a user id nobody has. */
export type TokenName = "admin" | "bidderA" | "bidderB" | "bidderC" | "ghost";
export type Role = "user" | "admin";
export type Signer = "HS256" | "HS384" | "HS512" | "none";

export interface Subject {
  sub: number;
  role: Role;
}

/** Signs a valid token for `subject`, valid for `expiresInSeconds`. */
export type SignToken = (subject: Subject, expiresInSeconds: number) => Promise<string>;

const HMAC: Record<Exclude<Signer, "none">, { hash: string; blockBytes: number }> = {
  HS256: { hash: "SHA-256", blockBytes: 64 },
  HS384: { hash: "SHA-384", blockBytes: 128 },
  HS512: { hash: "SHA-512", blockBytes: 128 },
};

/** The admin's `sub`: any id passes the admin routes. */
export const ADMIN_SUB = 1_000_000_000;
/** A well-formed user id no user has. */
export const GHOST_USER_ID = 9_000_000_000_000;

const TOKEN_SECONDS = 2 * 60 * 60;

const encoder = new TextEncoder();

function base64urlBytes(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export const base64url = (text: string): string => base64urlBytes(encoder.encode(text));

async function hmac(sign: Exclude<Signer, "none">, secret: string, input: string): Promise<string> {
  const { hash, blockBytes } = HMAC[sign];
  // Web Crypto refuses an empty HMAC key; HMAC pads every short key with zeros
  // to the block size, so that block of zeros is the same key.
  const key = secret === "" ? new Uint8Array(blockBytes) : encoder.encode(secret);
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign"]);
  return base64urlBytes(new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(input))));
}

export class TokenKit {
  /** Seconds since the epoch, for `exp`, `nbf` and `iat`. */
  readonly now = Math.floor(Date.now() / 1000);

  private constructor(
    readonly devSecret: string,
    /** The run's tag (fixtures.ts), so what a token could create is named after the run. */
    readonly tag: string,
    private readonly subjects: Readonly<Record<TokenName, Subject>>,
    private readonly tokens: Readonly<Record<TokenName, string>>,
  ) {}

  static async create(
    devSecret: string,
    signToken: SignToken,
    bidders: { a: number; b: number; c: number },
    tag: string,
  ): Promise<TokenKit> {
    const subjects: Record<TokenName, Subject> = {
      admin: { sub: ADMIN_SUB, role: "admin" },
      bidderA: { sub: bidders.a, role: "user" },
      bidderB: { sub: bidders.b, role: "user" },
      bidderC: { sub: bidders.c, role: "user" },
      ghost: { sub: GHOST_USER_ID, role: "user" },
    };
    const sign = (subject: Subject) => signToken(subject, TOKEN_SECONDS);
    const tokens: Record<TokenName, string> = {
      admin: await sign(subjects.admin),
      bidderA: await sign(subjects.bidderA),
      bidderB: await sign(subjects.bidderB),
      bidderC: await sign(subjects.bidderC),
      ghost: await sign(subjects.ghost),
    };
    return new TokenKit(devSecret, tag, subjects, tokens);
  }

  /** The fixture's valid token. */
  token(name: TokenName): string {
    return this.tokens[name];
  }

  /** The fixture's valid claims with some replaced; a claim set to undefined is left out. */
  claims(name: TokenName, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const { sub, role } = this.subjects[name];
    return { sub: String(sub), role, iat: this.now, exp: this.now + TOKEN_SECONDS, ...overrides };
  }

  /**
   * A JWT with any header and payload (JSON-encoded), signed with `sign`
   * (HS256 by default, "none" for an empty signature) and `secret` (the dev secret by default).
   */
  jwt(options: { payload: unknown; header?: unknown; sign?: Signer; secret?: string }): Promise<string> {
    const sign = options.sign ?? "HS256";
    const header = options.header ?? { alg: sign, typ: "JWT" };
    return this.signParts(
      base64url(JSON.stringify(header)),
      base64url(JSON.stringify(options.payload)),
      sign,
      options.secret,
    );
  }

  /** A JWT whose encoded header and payload are given as they are (not JSON, padded, anything). */
  async signParts(
    header: string,
    payload: string,
    sign: Signer = "HS256",
    secret = this.devSecret,
  ): Promise<string> {
    const input = `${header}.${payload}`;
    if (sign === "none") return `${input}.`;
    return `${input}.${await hmac(sign, secret, input)}`;
  }
}

export const bearer = (token: string): string => `Bearer ${token}`;
