// Which cases need the raw socket: a request `fetch` cannot send as it is.
// The rule is pure, not "whatever this runtime's Request does", so Node and
// workerd split the corpus the same way; the Vitest suite checks that each
// Request it builds kept everything this rule lets through.
import type { CorpusCase, Theme } from "./case.js";
import type { RequestBuilder, SentRequest } from "./request.js";

/** Methods the Fetch standard refuses to send. */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
/** A value a Headers object keeps byte for byte: visible ASCII, with spaces and tabs only inside. */
const PLAIN_VALUE = /^(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?$/;

/** Why the request needs a raw socket, or undefined when a `Request` carries it unchanged. */
export function rawSocketReason(request: SentRequest): string | undefined {
  if (request.chunked) return "a chunked body";
  if (FORBIDDEN_METHODS.has(request.method.toUpperCase())) return `the method ${request.method}`;
  const names = request.headers.map(([name]) => name.toLowerCase());
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) return `${repeated} sent twice`;
  const odd = request.headers.find(([, value]) => !PLAIN_VALUE.test(value));
  if (odd !== undefined) return `a ${odd[0]} value that is not plain ASCII`;
  const url = new URL(`http://corpus.invalid${request.target}`);
  if (`${url.pathname}${url.search}` !== request.target) return "a target the URL parser rewrites";
  return undefined;
}

export interface BuiltCase {
  theme: string;
  corpusCase: CorpusCase;
  request: SentRequest;
  /** Why only the raw socket can send it; undefined when a `Request` can. */
  rawOnly: string | undefined;
}

/** Every case of `themes` built with the fixtures' values, each marked for its transport. */
export async function buildCases(builder: RequestBuilder, themes: readonly Theme[]): Promise<BuiltCase[]> {
  const built: BuiltCase[] = [];
  for (const { theme, cases } of themes) {
    for (const corpusCase of cases) {
      const request = await builder.build(corpusCase.request);
      built.push({ theme, corpusCase, request, rawOnly: rawSocketReason(request) });
    }
  }
  return built;
}
