// Well-formed calls of the API for the fixtures and the snapshots, over the
// corpus's own client so every request the run makes goes through one path.
import type { z } from "zod";
import { type RawResponse, sendRaw } from "./http.js";

export interface ApiAnswer {
  status: number;
  json: unknown;
}

export class CorpusApi {
  constructor(
    readonly baseUrl: URL,
    readonly timeoutMs: number,
  ) {}

  async call(
    method: string,
    path: string,
    options: { token?: string; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<ApiAnswer> {
    const headers: [string, string][] = Object.entries(options.headers ?? {});
    if (options.token !== undefined) headers.push(["Authorization", `Bearer ${options.token}`]);
    let body: Buffer | undefined;
    if (options.json !== undefined) {
      body = Buffer.from(JSON.stringify(options.json), "utf8");
      headers.push(["Content-Type", "application/json"]);
    }
    const response = await sendRaw(this.baseUrl, { method, target: path, headers, body }, this.timeoutMs);
    return { status: response.status, json: parseJson(response) };
  }

  /** The call must answer `status` with a body matching `schema`. */
  async expect<T extends z.ZodType>(
    status: number,
    schema: T,
    method: string,
    path: string,
    options: { token?: string; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<z.output<T>> {
    const answer = await this.call(method, path, options);
    const what = `${method} ${path}`;
    if (answer.status !== status) {
      throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.json)}`);
    }
    const parsed = schema.safeParse(answer.json);
    if (!parsed.success) {
      throw new Error(`${what}: unexpected body ${JSON.stringify(answer.json)?.slice(0, 300)}`);
    }
    return parsed.data;
  }
}

function parseJson(response: RawResponse): unknown {
  try {
    return JSON.parse(response.body.toString("utf8"));
  } catch {
    return response.body.toString("utf8").slice(0, 300);
  }
}
