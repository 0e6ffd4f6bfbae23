// A stand-in identity provider for the tests, run in Node by the globalSetup:
// it makes an RSA and an EC signing key and publishes their public halves as a
// JWKS. Any GET path serves the same set, and each path keeps its own fetch
// count and up/down switch, so a test that names a path of its own (a key-set
// URL only it uses, hence a fresh per-isolate cache in the Worker) sees only
// its own fetches and outages.
import { generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listen } from "../../tools/net.js";
import type { Jwk, ProviderKeys } from "../corpus/provider-tokens.js";

export interface JwksServer {
  /** The default key-set URL (`/jwks.json`). */
  url: string;
  /** Base URL: `GET {base}/control/fetches?path=P`, `POST {base}/control/down|up?path=P`. */
  controlUrl: string;
  /** The private keys the tests sign with, and the iss and aud the Worker is told to expect. */
  keys: ProviderKeys;
  close(): Promise<void>;
}

/** A key as a JWK (public or private); `kty` is always there, as Web Crypto wants it. */
export function jwkOf(key: KeyObject): Jwk {
  const { kty, ...fields } = key.export({ format: "jwk" });
  if (!kty) throw new Error("exported JWK without kty");
  return { kty, ...fields };
}

function keyPair(type: "rsa" | "ec") {
  const { privateKey, publicKey } =
    type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    privateJwk: jwkOf(privateKey),
    publicJwk: jwkOf(publicKey),
    pem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

export async function startJwksServer(opts: { issuer: string; audience: string }): Promise<JwksServer> {
  const host = "127.0.0.1";
  const rsa = keyPair("rsa");
  const ec = keyPair("ec");
  const rsaKid = `rsa-${randomBytes(4).toString("hex")}`;
  const ecKid = `ec-${randomBytes(4).toString("hex")}`;
  const keySet = {
    keys: [
      { ...rsa.publicJwk, kid: rsaKid, alg: "RS256", use: "sig" },
      { ...ec.publicJwk, kid: ecKid, alg: "ES256", use: "sig" },
      // Keys the Worker must pass over: another use, and an algorithm outside the contract.
      { ...rsa.publicJwk, kid: `enc-${rsaKid}`, alg: "RSA-OAEP", use: "enc" },
      { ...rsa.publicJwk, kid: `ps-${rsaKid}`, alg: "PS256", use: "sig" },
    ],
  };

  const fetches = new Map<string, number>();
  const down = new Set<string>();

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    const url = new URL(request.url ?? "/", "http://jwks");
    const target = url.searchParams.get("path") ?? "/jwks.json";
    switch (`${request.method ?? ""} ${url.pathname}`) {
      case "GET /control/fetches":
        sendJson(response, 200, { fetches: fetches.get(target) ?? 0 });
        return;
      case "POST /control/down":
        down.add(target);
        sendJson(response, 200, { state: "down" });
        return;
      case "POST /control/up":
        down.delete(target);
        sendJson(response, 200, { state: "up" });
        return;
    }
    if (request.method !== "GET") {
      sendJson(response, 405, { error: "GET a key set, or use /control/*" });
      return;
    }
    fetches.set(url.pathname, (fetches.get(url.pathname) ?? 0) + 1);
    if (down.has(url.pathname)) {
      sendJson(response, 503, { error: "down" });
      return;
    }
    sendJson(response, 200, keySet);
  });

  const port = await listen(server, host, 0);
  const base = `http://${host}:${port}`;
  return {
    url: `${base}/jwks.json`,
    controlUrl: base,
    keys: {
      rsa: { ...rsa.privateJwk, kid: rsaKid, alg: "RS256" },
      ec: { ...ec.privateJwk, kid: ecKid, alg: "ES256" },
      rsaPublicPem: rsa.pem,
      issuer: opts.issuer,
      audience: opts.audience,
    },
    async close() {
      server.closeAllConnections();
      await closeServer(server);
    },
  };
}
