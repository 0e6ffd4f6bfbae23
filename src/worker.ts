import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { ApiError, problemResponse } from "./api/problem";
import { createRouter, handleError } from "./http/app";
import { corsFromEnv } from "./http/cors";
import { bidsRouter } from "./routes/bids";
import { discoveryRouter } from "./routes/discovery";
import { healthRouter } from "./routes/health";
import { historyRouter } from "./routes/history";
import { leaderboardRouter } from "./routes/leaderboard";
import { meRouter } from "./routes/me";
import { metricsRouter } from "./routes/metrics";
import { sessionsRouter } from "./routes/sessions";
import { usersRouter } from "./routes/users";
import { webhooksRouter } from "./routes/webhooks";
import { handleWebhookQueue } from "./webhooks/consumer";

export { BiddingSession } from "./objects/bidding-session";

const MAX_BODY_BYTES = 16 * 1024;

// The same media types the route validators accept (application/json or
// application/*+json, parameters as `; name=value`), so the two never disagree.
const jsonMediaType = /^application\/([a-z.-]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

const requireJsonBody = createMiddleware(async (c, next) => {
  const hasBody = c.req.header("Content-Length") !== "0" && c.req.raw.body !== null;
  if (hasBody && ["POST", "PATCH", "PUT"].includes(c.req.method)) {
    if (!jsonMediaType.test(c.req.header("Content-Type") ?? "")) {
      throw new ApiError("unsupported_media_type", "Send the body as application/json.");
    }
  }
  await next();
});

const app = createRouter();

// First, so preflights are answered before any other check and every answer, problems included, carries the headers.
app.use(corsFromEnv);
app.use(
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => problemResponse("payload_too_large", "Request bodies are limited to 16 KiB."),
  }),
);
app.use(requireJsonBody);

// Chained, so the routes' types add up to AppType, which the typed client (src/client.ts) is built on.
const routes = app
  .route("/health", healthRouter)
  .route("/v1/users", usersRouter)
  .route("/v1/sessions", sessionsRouter)
  .route("/v1/sessions", bidsRouter)
  .route("/v1/sessions", leaderboardRouter)
  .route("/v1/sessions", discoveryRouter)
  .route("/v1/sessions", historyRouter)
  .route("/v1/me", meRouter)
  .route("/v1/webhooks", webhooksRouter)
  .route("/metrics", metricsRouter);

export type AppType = typeof routes;

app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
});
app.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: {
    title: "Edge bidding API",
    // The contract's version (API.md, "v1.2 additions").
    version: "1.2.0",
    description: "Real-time bidding sessions on Cloudflare Workers. Errors are RFC 9457 problem documents.",
  },
});

app.notFound((c) => problemResponse("not_found", `No route for ${c.req.method} ${c.req.path}.`));
app.onError(handleError);

// fetch for HTTP, queue for the webhook queue and its dead-letter queue.
export default {
  fetch: app.fetch,
  queue: handleWebhookQueue,
} satisfies ExportedHandler<Env>;
