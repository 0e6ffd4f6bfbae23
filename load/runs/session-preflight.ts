// Before a terminal tool settles into its loop: does a server answer at the
// URL, does it know the session, does it take the token? Each failure is one
// sentence (runCommand prints it and exits 1), never a retry loop against
// nothing or a stack trace.
import { errorMessage } from "../../tools/net.js";
import { HttpClient, problemOf, type RawAnswer } from "../kit/http.js";

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
  const client = new HttpClient(api, { maxSockets: 1 });
  let answer: RawAnswer;
  try {
    answer = await client.request("GET", path, { token, timeoutMs: 5000 });
  } catch (error) {
    throw new Error(
      `no server answers at ${api.origin} (${errorMessage(error)}): start one with npm start, or pass --url`,
    );
  } finally {
    client.close();
  }
  if (answer.status < 300) return;
  const problem = problemOf(answer.body);
  const detail = problem ? `${problem.code}: ${problem.detail}` : `HTTP ${answer.status}`;
  switch (answer.status) {
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
      throw new Error(`${api.origin} answered ${answer.status} for ${path} (${detail})`);
  }
}
