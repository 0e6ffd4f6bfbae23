// Sends one case and judges the answer: a 4xx the case allows, served as
// application/problem+json, with type/title/status/detail/code, status equal
// to the HTTP status, and the expected code where the contract fixes one.
// The transport is the caller's: a raw socket live, the Worker's fetch in workerd.
import { z } from "zod";
import type { CaseRequest, CorpusCase, Expectation } from "./case.js";
import type { Answer, RequestBuilder, SentRequest, Transport } from "./request.js";

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

export class CaseRunner {
  constructor(
    private readonly send: Transport,
    readonly builder: RequestBuilder,
  ) {}

  /** Sends the case (already built, or built here) and judges the answer. */
  async run(theme: string, corpusCase: CorpusCase, built?: SentRequest): Promise<CaseResult> {
    const request = built ?? (await this.builder.build(corpusCase.request));
    const base = { theme, name: corpusCase.name, request: showRequest(request), expected: corpusCase.expect };
    let answer: Answer;
    try {
      answer = await this.send(request);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ...base, response: null, passed: false, reasons: [`no response: ${reason}`] };
    }
    const { reasons, shownResponse } = judge(answer, corpusCase.expect);
    return { ...base, response: shownResponse, passed: reasons.length === 0, reasons };
  }

  /** Sends a well-formed request (a control) and returns its status and the start of its body. */
  async probe(request: CaseRequest): Promise<{ status: number | null; detail: string }> {
    try {
      const answer = await this.send(await this.builder.build(request));
      return { status: answer.status, detail: clip(answer.body, 200) };
    } catch (error) {
      return { status: null, detail: error instanceof Error ? error.message : String(error) };
    }
  }
}

function judge(response: Answer, expect: Expectation): { reasons: string[]; shownResponse: ShownResponse } {
  const reasons: string[] = [];
  const text = response.body;
  const contentType = response.contentType;
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

const decoder = new TextDecoder();

function showRequest(request: SentRequest): ShownRequest {
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
      start: showValue(decoder.decode(request.body.subarray(0, 200)), 200),
      chunked: request.chunked,
    };
  }
  return shown;
}
