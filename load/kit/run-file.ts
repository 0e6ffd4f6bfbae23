// The run file load:setup writes and the other scripts read: where the
// service is, the session, and credentials for the admin and every user.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { CreatedUsersSchema } from "../../src/api/contract.js";
import { UsageError } from "./cli.js";
import { writeJsonFile } from "./report.js";

export const DEFAULT_RUN_FILE = "load/results/run.json";

const RunFileSchema = z.object({
  createdAt: z.string(),
  url: z.string(),
  sessionId: z.string(),
  session: z.object({
    title: z.string(),
    startsAt: z.string(),
    endsAt: z.string(),
    minBid: z.number().int(),
    minIncrement: z.number().int(),
  }),
  adminToken: z.string(),
  users: z.array(CreatedUsersSchema.shape.users.element.extend({ token: z.string() })).min(1),
});
export type RunFile = z.infer<typeof RunFileSchema>;

export function readRunFile(path: string): RunFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(resolve(path), "utf8"));
  } catch (error) {
    if (error instanceof SyntaxError) throw new UsageError(`${path} is not JSON`);
    throw new UsageError(`no run file at ${path}: create one with npm run load:setup`);
  }
  const parsed = RunFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${path} is not a run file (${issue?.path.join(".")}: ${issue?.message})`);
  }
  return parsed.data;
}

/** Writes the run's fields (and no others), readable by its owner only; returns the path relative to the working directory. */
export function writeRunFile(path: string, run: RunFile): string {
  return writeJsonFile(path, RunFileSchema.parse(run), 0o600);
}
