// Every case of the corpus, by theme, in the order a run sends them: the one
// list the live runner and the Vitest suite both read.
import { authCases } from "./auth.js";
import { bidCases } from "./bids.js";
import { bodyCases } from "./bodies.js";
import type { Theme } from "./case.js";
import { historyCases } from "./history.js";
import { idCases } from "./ids.js";
import { pathCases } from "./paths.js";
import { queryCases } from "./queries.js";
import { sessionCases } from "./sessions.js";
import { userCases } from "./users.js";
import { webhookCases } from "./webhooks.js";

export const THEMES: readonly Theme[] = [
  { theme: "auth", cases: authCases },
  { theme: "bodies", cases: bodyCases },
  { theme: "users", cases: userCases },
  { theme: "sessions", cases: sessionCases },
  { theme: "bids", cases: bidCases },
  { theme: "ids", cases: idCases },
  { theme: "paths", cases: pathCases },
  { theme: "queries", cases: queryCases },
  { theme: "history", cases: historyCases },
  { theme: "webhooks", cases: webhookCases },
];
