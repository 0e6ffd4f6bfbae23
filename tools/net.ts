import { createServer, type Server } from "node:net";

/** Listens on host:port (0 = a free port the OS picks) and resolves with the bound port. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const address = server.address();
      if (address === null || typeof address === "string") {
        reject(new Error(`unexpected listen address ${String(address)}`));
        return;
      }
      resolve(address.port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
  });
}

/** A port the OS reports free on `host` right now. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const probe = createServer();
  const port = await listen(probe, host, 0);
  await closeServer(probe);
  return port;
}

export async function isPortFree(host: string, port: number): Promise<boolean> {
  const probe = createServer();
  try {
    await listen(probe, host, port);
  } catch {
    return false;
  }
  await closeServer(probe);
  return true;
}

/**
 * A one-line message for any thrown value. Node reports a refused connection to
 * "localhost" (tried on ::1 and 127.0.0.1) as an AggregateError with an empty
 * message, so the inner errors are read instead.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") {
    return [...new Set(error.errors.map(errorMessage))].join("; ");
  }
  if (error instanceof Error) {
    const message = error.message || error.name;
    return error.cause === undefined ? message : `${message}: ${errorMessage(error.cause)}`;
  }
  return String(error);
}

/** host:port/path of a URL without its credentials, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * The URL with a password added when it has none: wrangler's local Hyperdrive
 * binding refuses a connection string without user:password, even for a server
 * with trust auth (which never asks for the password).
 */
export function withPlaceholderPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== "") return url;
  if (parsed.username === "") parsed.username = "postgres";
  parsed.password = "postgres";
  return parsed.toString();
}
