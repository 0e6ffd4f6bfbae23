// Well-formed calls of the API for the fixtures and the snapshots, over the
// same transport as the cases, so every request a run makes goes one way.
import type { z } from "zod";
import type { Transport } from "./request.js";

export interface ApiAnswer {
  status: number;
  json: unknown;
}

interface CallOptions {
  token?: string;
  json?: unknown;
  headers?: Record<string, string>;
}

export class CorpusApi {
  constructor(private readonly send: Transport) {}

  async call(method: string, path: string, options: CallOptions = {}): Promise<ApiAnswer> {
    const headers: [string, string][] = Object.entries(options.headers ?? {});
    if (options.token !== undefined) headers.push(["Authorization", `Bearer ${options.token}`]);
    let body: Uint8Array | undefined;
    if (options.json !== undefined) {
      body = new TextEncoder().encode(JSON.stringify(options.json));
      headers.push(["Content-Type", "application/json"]);
    }
    const answer = await this.send({ method, target: path, headers, body, chunked: false });
    return { status: answer.status, json: parseJson(answer.body) };
  }

  /** The call must answer `status` with a body matching `schema`. */
  async expect<T extends z.ZodType>(
    status: number,
    schema: T,
    method: string,
    path: string,
    options: CallOptions = {},
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text.slice(0, 300);
  }
}
