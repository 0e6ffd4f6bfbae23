import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import { ProblemSchema } from "../api/contract";
import { ApiError, problemResponse } from "../api/problem";
import { DatabaseUnavailable } from "../db/client";
import type { AuthVariables } from "./auth";

export type AppEnv = { Bindings: Env; Variables: AuthVariables };

function describeIssue(target: string, error: ZodError): string {
  const issue = error.issues[0];
  if (!issue) return `${target} is invalid`;
  const field = issue.path.length > 0 ? issue.path.join(".") : target;
  return `${field}: ${issue.message}`;
}

/** A router whose validation failures become 400 `invalid_request` naming the field. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError("invalid_request", describeIssue(result.target, result.error));
      }
    },
  });
}

/** The one error handler: known errors become problem documents, unknown ones a logged bare 500. */
export function handleError(error: Error, c: Context<AppEnv>): Response {
  if (error instanceof ApiError) {
    if (error.status >= 500) logError(c, error);
    return problemResponse(error.code, error.detail, error.headers);
  }
  if (error instanceof DatabaseUnavailable) {
    logError(c, error);
    return problemResponse("database_unavailable", error.message, { "Retry-After": "5" });
  }
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own validators and middleware: malformed JSON, media types, sizes.
    if (error.status === 413) return problemResponse("payload_too_large", error.message);
    if (error.status === 415) return problemResponse("unsupported_media_type", error.message);
    return problemResponse("invalid_request", `body: ${error.message}`);
  }
  logError(c, error);
  return problemResponse("internal_error", "Something went wrong on our side.");
}

function logError(c: Context<AppEnv>, error: Error): void {
  const causes: string[] = [];
  for (let e = error.cause; e instanceof Error && causes.length < 3; e = e.cause) causes.push(e.message);
  console.error(
    JSON.stringify({
      level: "error",
      event: "request_failed",
      method: c.req.method,
      path: c.req.path,
      error: error.message,
      causes,
      stack: error instanceof ApiError ? undefined : error.stack,
    }),
  );
}

/** Shared OpenAPI pieces. */
export const problemContent = { "application/problem+json": { schema: ProblemSchema } };

export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [status, { description: "Problem document", content: problemContent }]),
  );
}

export const bearerSecurity = [{ bearerAuth: [] }];
