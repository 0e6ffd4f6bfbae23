// Prints a signed HS256 JWT for calling the API locally:
//   npm run token -- --sub 42 --role admin [--expires-in 3600]
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { sign } from "hono/jwt";
import { errorMessage } from "./net.js";

export type Role = "user" | "admin";

export interface TokenClaims {
  /** the user id */
  sub: number | string;
  role: Role;
  secret: string;
  /** default 3600 */
  expiresInSeconds?: number;
}

export async function signToken(claims: TokenClaims): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const payload = {
    sub: String(claims.sub),
    role: claims.role,
    iat,
    exp: iat + (claims.expiresInSeconds ?? 3600),
  };
  return sign(payload, claims.secret, "HS256");
}

const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** JWT_SECRET from the environment, else from .dev.vars, else from .dev.vars.example. */
export function readDevSecret(): string {
  const fromEnv = process.env.JWT_SECRET;
  if (fromEnv) return fromEnv;
  for (const file of [".dev.vars", ".dev.vars.example"]) {
    const path = `${PROJECT_ROOT}${file}`;
    if (!existsSync(path)) continue;
    const secret = readDotenvValue(readFileSync(path, "utf8"), "JWT_SECRET");
    if (secret) return secret;
  }
  throw new Error("JWT_SECRET is not set in the environment, .dev.vars or .dev.vars.example");
}

function readDotenvValue(text: string, key: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    const match = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (match?.[1] === key) return match[2]?.replace(/^(["'])(.*)\1$/, "$2");
  }
  return undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const usage = "usage: npm run token -- --sub <user id> [--role user|admin] [--expires-in <seconds>]";
  const fail: (message: string) => never = (message) => {
    console.error(`${message}\n${usage}`);
    process.exit(2);
  };
  let values: { sub?: string; role?: string; "expires-in"?: string };
  try {
    ({ values } = parseArgs({
      options: { sub: { type: "string" }, role: { type: "string" }, "expires-in": { type: "string" } },
    }));
  } catch (error) {
    values = fail(errorMessage(error));
  }
  const sub = values.sub ?? fail("--sub is required");
  if (!/^[1-9][0-9]{0,15}$/.test(sub)) fail("--sub must be a positive integer user id");
  const role = values.role ?? "user";
  if (role !== "user" && role !== "admin") fail("--role must be user or admin");
  const expiresInSeconds = Number(values["expires-in"] ?? "3600");
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds <= 0)
    fail("--expires-in must be a positive number of seconds");
  try {
    console.log(await signToken({ sub, role, secret: readDevSecret(), expiresInSeconds }));
  } catch (error) {
    console.error(`token: ${errorMessage(error)}`);
    process.exit(1);
  }
}
