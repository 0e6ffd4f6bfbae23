// Sends one case and judges the answer: a 4xx the case allows, served as
// application/problem+json, with type/title/status/detail/code, status equal
// to the HTTP status, and the expected code where the contract fixes one.
import { z } from "zod";
import type { CaseRequest, CorpusCase, Expectation } from "./case.js";
import { NoResponse, type RawRequest, type RawResponse, sendRaw } from "./http.js";
import type { TokenKit } from "./tokens.js";

export interface ShownRequest {
  method: string;
  target: string;
  headers: [string, string][];
  body?: { bytes: number; start: string; chunked: boolean };
}

export interface ShownResponse {
  status: number;
  contentType: string | null;
  code: string | null;
  body: string;
  ms: number;
}

export interface CaseResult {
  theme: string;
  name: string;
  request: ShownRequest;
  expected: Expectation;
  /** null when no response came at all. */
  response: ShownResponse | null;
  passed: boolean;
  /** Why it failed; empty when it passed. */
  reasons: string[];
}

const ProblemShape = z.object({
  type: z.string().min(1),
  title: z.string().min(1),
  status: z.number().int(),
  detail: z.string(),
  code: z.string().min(1),
});

const PLACEHOLDER = /\{\{(\w+)\}\}/g;

export class CaseRunner {
  constructor(
    private readonly baseUrl: URL,
    private readonly kit: TokenKit,
    private readonly values: Readonly<Record<string, string>>,
    private readonly timeoutMs: number,
  ) {}

  async run(theme: string, corpusCase: CorpusCase): Promise<CaseResult> {
    const request = this.build(corpusCase.request);
    const shown = showRequest(request);
    let response: RawResponse;
    try {
      response = await sendRaw(this.baseUrl, request, this.timeoutMs);
    } catch (error) {
      const reason = error instanceof NoResponse ? error.message : String(error);
      return {
        theme,
        name: corpusCase.name,
        request: shown,
        expected: corpusCase.expect,
        response: null,
        passed: false,
        reasons: [`no response: ${reason}`],
      };
    }
    const { reasons, shownResponse } = judge(response, corpusCase.expect);
    return {
      theme,
      name: corpusCase.name,
      request: shown,
      expected: corpusCase.expect,
      response: shownResponse,
      passed: reasons.length === 0,
      reasons,
    };
  }

  /** Sends a well-formed request (a control) and returns its status and the start of its body. */
  async probe(request: CaseRequest): Promise<{ status: number | null; detail: string }> {
    try {
      const response = await sendRaw(this.baseUrl, this.build(request), this.timeoutMs);
      return { status: response.status, detail: clip(response.body.toString("utf8"), 200) };
    } catch (error) {
      return { status: null, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Replaces `{{name}}` with the fixture's value; an unknown name is a mistake in the corpus. */
  private fill(text: string): string {
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

  private build(request: CaseRequest): RawRequest {
    const headers: [string, string][] = [];
    if (request.auth !== undefined) {
      const value =
        typeof request.auth === "string" ? `Bearer ${this.kit.token(request.auth)}` : request.auth(this.kit);
      headers.push(["Authorization", value]);
    }
    let body: Buffer | undefined;
    if (request.body !== undefined) {
      if ("json" in request.body) {
        const text = JSON.stringify(this.fillJson(request.body.json));
        if (text === undefined) throw new Error("a case's json body is not JSON-serialisable");
        body = Buffer.from(text, "utf8");
      } else {
        const rawBody = request.body.raw;
        body = typeof rawBody === "string" ? Buffer.from(this.fill(rawBody), "utf8") : Buffer.from(rawBody);
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

function judge(
  response: RawResponse,
  expect: Expectation,
): { reasons: string[]; shownResponse: ShownResponse } {
  const reasons: string[] = [];
  const text = response.body.toString("utf8");
  const contentType = response.headers.get("content-type")?.join(", ") ?? null;
  let code: string | null = null;

  if (response.status < 400 || response.status > 499) reasons.push(`status ${response.status} is not a 4xx`);
  else if (!expect.status.includes(response.status)) {
    reasons.push(`status ${response.status}, expected ${expect.status.join(" or ")}`);
  }
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/problem+json") {
    reasons.push(`Content-Type ${contentType ?? "(none)"}, expected application/problem+json`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    reasons.push("the body is not JSON");
  }
  if (body !== undefined) {
    const problem = ProblemShape.safeParse(body);
    if (!problem.success) {
      const fields = [...new Set(problem.error.issues.map((issue) => issue.path.join(".") || "(body)"))];
      reasons.push(`not a problem document: bad or missing ${fields.join(", ")}`);
      const loose = z.object({ code: z.string() }).safeParse(body);
      if (loose.success) code = loose.data.code;
    } else {
      code = problem.data.code;
      if (problem.data.status !== response.status) {
        reasons.push(`body status ${problem.data.status} differs from HTTP ${response.status}`);
      }
    }
  }
  if (expect.code !== undefined && (code === null || !expect.code.some((c) => c === code))) {
    reasons.push(`code ${code ?? "(none)"}, expected ${expect.code.join(" or ")}`);
  }
  return {
    reasons,
    shownResponse: {
      status: response.status,
      contentType,
      code,
      body: clip(text, 400),
      ms: Math.round(response.ms),
    },
  };
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** Control characters escaped, long values (tokens, padding) shortened. */
function showValue(value: string, max: number): string {
  const escaped = JSON.stringify(value).slice(1, -1);
  return escaped.length > max ? `${escaped.slice(0, max)}…(${value.length} chars)` : escaped;
}

function showRequest(request: RawRequest): ShownRequest {
  const shown: ShownRequest = {
    method: request.method,
    target: showValue(request.target, 200),
    headers: request.headers.map(([name, value]) => [
      name,
      showValue(value, name.toLowerCase() === "authorization" ? 60 : 160),
    ]),
  };
  if (request.body !== undefined) {
    shown.body = {
      bytes: request.body.length,
      start: showValue(request.body.subarray(0, 200).toString("utf8"), 200),
      chunked: request.chunked ?? false,
    };
  }
  return shown;
}
