// A case's request as it goes out: placeholders filled with the fixtures'
// values, the token built, the body as bytes. Both transports (the raw socket
// and the Worker's fetch) send exactly this.
import type { CaseRequest } from "./case.js";
import type { TokenKit } from "./tokens.js";

export interface SentRequest {
  method: string;
  /** The request target, verbatim. */
  target: string;
  /** In order; a name may repeat. */
  headers: [string, string][];
  body?: Uint8Array;
  /** Transfer-Encoding: chunked instead of Content-Length. */
  chunked: boolean;
}

/** What came back: enough to judge a problem document. */
export interface Answer {
  status: number;
  /** Every Content-Type value, joined with ", "; null when there is none. */
  contentType: string | null;
  body: string;
  ms: number;
}

/** Sends one request; rejects when no response came at all. */
export type Transport = (request: SentRequest) => Promise<Answer>;

const PLACEHOLDER = /\{\{(\w+)\}\}/g;
const encoder = new TextEncoder();

export class RequestBuilder {
  constructor(
    readonly kit: TokenKit,
    private readonly values: Readonly<Record<string, string>>,
  ) {}

  /** Replaces `{{name}}` with the fixture's value; an unknown name is a mistake in the corpus. */
  fill(text: string): string {
    return text.replace(PLACEHOLDER, (_match, name: string) => {
      const value = this.values[name];
      if (value === undefined) throw new Error(`the corpus uses an unknown placeholder {{${name}}}`);
      return value;
    });
  }

  private fillJson(value: unknown): unknown {
    if (typeof value === "string") return this.fill(value);
    if (Array.isArray(value)) return value.map((item) => this.fillJson(item));
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, this.fillJson(inner)]));
    }
    return value;
  }

  async build(request: CaseRequest): Promise<SentRequest> {
    const headers: [string, string][] = [];
    if (request.auth !== undefined) {
      const value =
        typeof request.auth === "string"
          ? `Bearer ${this.kit.token(request.auth)}`
          : await request.auth(this.kit);
      headers.push(["Authorization", value]);
    }
    let body: Uint8Array | undefined;
    if (request.body !== undefined) {
      if ("json" in request.body) {
        const text = JSON.stringify(this.fillJson(request.body.json));
        if (text === undefined) throw new Error("a case's json body is not JSON-serialisable");
        body = encoder.encode(text);
      } else {
        const rawBody = request.body.raw;
        body = typeof rawBody === "string" ? encoder.encode(this.fill(rawBody)) : rawBody;
      }
    }
    const contentType =
      request.contentType === undefined ? (body ? "application/json" : null) : request.contentType;
    if (contentType !== null) headers.push(["Content-Type", contentType]);
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      for (const one of typeof value === "string" ? [value] : value) headers.push([name, this.fill(one)]);
    }
    return {
      method: request.method,
      target: this.fill(request.path),
      headers,
      body,
      chunked: request.chunked ?? false,
    };
  }
}
