// Before a terminal tool settles into its loop: does a server answer at the
// URL, does it know the session, does it take the token? Each failure is one
// sentence (runCommand prints it and exits 1), never a retry loop against
// nothing or a stack trace.
import { errorMessage } from "../tools/net.js";
import { ProblemSchema } from "./api-schemas.js";

const TIMEOUT_MS = 5000;

async function problemDetail(response: Response): Promise<string> {
  const parsed = ProblemSchema.safeParse(await response.json().catch(() => undefined));
  return parsed.success ? `${parsed.data.code}: ${parsed.data.detail}` : `HTTP ${response.status}`;
}

/**
 * Reads `path` (a route of session `sessionId`) and throws one sentence
 * saying what went wrong: no server, no such session, a refused token.
 */
export async function requireSession(
  api: URL,
  sessionId: string,
  path = `/v1/sessions/${sessionId}`,
  token?: string,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(new URL(path, api), {
      headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new Error(
      `no server answers at ${api.origin} (${errorMessage(error)}): start one with npm run dev, or pass --url`,
    );
  }
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const detail = await problemDetail(response);
  switch (response.status) {
    case 404:
      throw new Error(`${api.origin} has no session ${sessionId} (${detail})`);
    case 400:
      throw new Error(`${sessionId} is not a session id (${detail})`);
    case 401:
    case 403:
      throw new Error(
        `${api.origin} refused the token (${detail}): tokens here are signed with JWT_SECRET from the ` +
          "environment or .dev.vars, which must be the server's",
      );
    default:
      throw new Error(`${api.origin} answered ${response.status} for ${path} (${detail})`);
  }
}
