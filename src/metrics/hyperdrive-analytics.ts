// Hyperdrive's own pool figures, read from Cloudflare's GraphQL Analytics API.
//
// The query follows Cloudflare's "Metrics and analytics" page for Hyperdrive
// (https://developers.cloudflare.com/hyperdrive/observability/metrics/, updated
// 2026-05-28): the dataset hyperdrivePoolSizesAdaptiveGroups (since 2026-05-15)
// has avg { currentPoolSize availablePoolSlots waitingClients },
// max { maxPoolSize currentPoolSize waitingClients } and the dimension coloCode;
// hyperdriveQueriesAdaptiveGroups has count, avg { connectionLatency queryLatency }
// (milliseconds) and the dimension eventStatus ("complete" | "error"). Both take
// an accountTag on accounts and configId, datetime_geq, datetime_leq and limit on
// the node, exactly as in the page's examples. The endpoint is
// https://api.cloudflare.com/client/v4/graphql with `Authorization: Bearer`
// (an API token with Account Analytics Read); a 200 may still carry an `errors`
// array and `data: null` (analytics/graphql-api/errors/).
import { z } from "@hono/zod-openapi";
import type { HyperdrivePoolLocationSchema, HyperdrivePoolSchema } from "../api/contract";

export type HyperdrivePool = z.infer<typeof HyperdrivePoolSchema>;
type HyperdrivePoolLocation = z.infer<typeof HyperdrivePoolLocationSchema>;
type PoolStatus = HyperdrivePoolLocation["status"];

const DEFAULT_CF_API_BASE_URL = "https://api.cloudflare.com/client/v4";
/** The datasets are minute-grained: five complete minutes, ending at the start of the current one. */
export const WINDOW_MINUTES = 5;
/** One attempt, bounded; the caller's PostgreSQL figures do not wait longer than this for it. */
export const REQUEST_TIMEOUT_MS = 2_500;
/** A failed call is remembered this long, so an outage or a bad token costs one call per 15 s, not one per request. */
const FAILURE_TTL_MS = 15_000;

const MINUTE_MS = 60_000;

interface HyperdriveAnalyticsSettings {
  accountId: string;
  apiToken: string;
  configId: string;
  apiBaseUrl: string;
}

/** The settings, or the names of those missing (then the block says it is not configured). */
function hyperdriveAnalyticsSettings(env: Env): HyperdriveAnalyticsSettings | { missing: string[] } {
  const values = {
    CF_ACCOUNT_ID: env.CF_ACCOUNT_ID?.trim() ?? "",
    CF_API_TOKEN: env.CF_API_TOKEN?.trim() ?? "",
    HYPERDRIVE_CONFIG_ID: env.HYPERDRIVE_CONFIG_ID?.trim() ?? "",
  };
  const missing = Object.entries(values).flatMap(([name, value]) => (value === "" ? [name] : []));
  if (missing.length > 0) return { missing };
  return {
    accountId: values.CF_ACCOUNT_ID,
    apiToken: values.CF_API_TOKEN,
    configId: values.HYPERDRIVE_CONFIG_ID,
    apiBaseUrl: (env.CF_API_BASE_URL?.trim() || DEFAULT_CF_API_BASE_URL).replace(/\/+$/, ""),
  };
}

const HYPERDRIVE_POOL_QUERY = `query HyperdrivePoolFigures(
  $accountTag: string!
  $configId: string!
  $datetimeStart: Time!
  $datetimeEnd: Time!
) {
  viewer {
    accounts(filter: { accountTag: $accountTag }) {
      hyperdrivePoolSizesAdaptiveGroups(
        limit: 100
        filter: { configId: $configId, datetime_geq: $datetimeStart, datetime_leq: $datetimeEnd }
      ) {
        avg { currentPoolSize availablePoolSlots waitingClients }
        max { maxPoolSize currentPoolSize waitingClients }
        dimensions { coloCode }
      }
      hyperdriveQueriesAdaptiveGroups(
        limit: 10
        filter: { configId: $configId, datetime_geq: $datetimeStart, datetime_leq: $datetimeEnd }
      ) {
        count
        avg { connectionLatency queryLatency }
        dimensions { eventStatus }
      }
    }
  }
}`;

const AnswerSchema = z.object({
  data: z
    .object({
      viewer: z.object({
        accounts: z.array(
          z.object({
            hyperdrivePoolSizesAdaptiveGroups: z.array(
              z.object({
                avg: z.object({
                  currentPoolSize: z.number(),
                  availablePoolSlots: z.number(),
                  waitingClients: z.number(),
                }),
                max: z.object({
                  maxPoolSize: z.number(),
                  currentPoolSize: z.number(),
                  waitingClients: z.number(),
                }),
                dimensions: z.object({ coloCode: z.string() }),
              }),
            ),
            hyperdriveQueriesAdaptiveGroups: z.array(
              z.object({
                count: z.number(),
                avg: z.object({
                  connectionLatency: z.number().nullable(),
                  queryLatency: z.number().nullable(),
                }),
                dimensions: z.object({ eventStatus: z.string() }),
              }),
            ),
          }),
        ),
      }),
    })
    .nullable(),
  errors: z
    .array(z.object({ message: z.string() }))
    .nullable()
    .optional(),
});

type Answer = z.infer<typeof AnswerSchema>;
type Account = NonNullable<Answer["data"]>["viewer"]["accounts"][number];

/**
 * One location's status: `exhausted` when the pool sat at its maximum with no
 * slot to hand out for the whole window, or clients were waiting throughout it
 * (on average at least one); `degraded` when any client had to wait at all.
 * Zero available slots below the maximum is not exhaustion: Hyperdrive opens
 * another connection.
 */
function locationStatus(location: Omit<HyperdrivePoolLocation, "status">): PoolStatus {
  const atMaximum = location.current_pool_size_max >= location.max_pool_size;
  if ((location.available_pool_slots_avg <= 0 && atMaximum) || location.waiting_clients_avg >= 1) {
    return "exhausted";
  }
  return location.waiting_clients_max > 0 ? "degraded" : "healthy";
}

const STATUS_ORDER: PoolStatus[] = ["healthy", "degraded", "exhausted"];

export function worstStatus(...statuses: PoolStatus[]): PoolStatus {
  return statuses.reduce((worst, s) => (STATUS_ORDER.indexOf(s) > STATUS_ORDER.indexOf(worst) ? s : worst));
}

function mapAccount(
  account: Account,
): Pick<Extract<HyperdrivePool, { state: "ok" }>, "status" | "locations" | "queries"> {
  const locations = account.hyperdrivePoolSizesAdaptiveGroups
    .map((group) => {
      const figures = {
        colo: group.dimensions.coloCode,
        current_pool_size_avg: group.avg.currentPoolSize,
        current_pool_size_max: group.max.currentPoolSize,
        available_pool_slots_avg: group.avg.availablePoolSlots,
        waiting_clients_avg: group.avg.waitingClients,
        waiting_clients_max: group.max.waitingClients,
        max_pool_size: group.max.maxPoolSize,
      };
      return { ...figures, status: locationStatus(figures) };
    })
    .sort((a, b) => a.colo.localeCompare(b.colo));
  const groups = account.hyperdriveQueriesAdaptiveGroups;
  const complete = groups.filter((group) => group.dimensions.eventStatus === "complete");
  // The latencies are averaged over successful queries only, as in Cloudflare's own example.
  const weightedAverage = (pick: (group: (typeof complete)[number]) => number | null) => {
    const weighted = complete.filter((group) => pick(group) !== null && group.count > 0);
    const weight = weighted.reduce((sum, group) => sum + group.count, 0);
    return weight === 0
      ? null
      : weighted.reduce((sum, group) => sum + (pick(group) ?? 0) * group.count, 0) / weight;
  };
  return {
    status: worstStatus("healthy", ...locations.map((location) => location.status)),
    locations,
    queries: {
      count: groups.reduce((sum, group) => sum + group.count, 0),
      errors: groups.reduce(
        (sum, group) => sum + (group.dimensions.eventStatus === "error" ? group.count : 0),
        0,
      ),
      query_latency_ms_avg: weightedAverage((group) => group.avg.queryLatency),
      connection_latency_ms_avg: weightedAverage((group) => group.avg.connectionLatency),
    },
  };
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join(".") || "answer"}: ${issue.message}` : "unexpected shape";
}

async function queryAnalytics(
  settings: HyperdriveAnalyticsSettings,
  window: { start: string; end: string },
): Promise<Account> {
  let response: Response;
  try {
    response = await fetch(`${settings.apiBaseUrl}/graphql`, {
      method: "POST",
      headers: { Authorization: `Bearer ${settings.apiToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        query: HYPERDRIVE_POOL_QUERY,
        variables: {
          accountTag: settings.accountId,
          configId: settings.configId,
          datetimeStart: window.start,
          datetimeEnd: window.end,
        },
      }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new Error(describeFetchError(error));
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new Error(describeFetchError(error));
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${response.status}, not JSON: ${text.slice(0, 80)}`);
  }
  if (!response.ok) {
    const messages = z
      .object({ errors: z.array(z.object({ message: z.string() })) })
      .safeParse(body)
      .data?.errors.map((e) => e.message);
    throw new Error(`HTTP ${response.status}${messages?.length ? ` (${messages.join("; ")})` : ""}`);
  }
  const parsed = AnswerSchema.safeParse(body);
  if (!parsed.success) throw new Error(`malformed answer: ${describeIssue(parsed.error)}`);
  const { data, errors } = parsed.data;
  if (errors && errors.length > 0) throw new Error(errors.map((e) => e.message).join("; "));
  const account = data?.viewer.accounts[0];
  if (!account)
    throw new Error(`no data for account ${settings.accountId} (wrong CF_ACCOUNT_ID or no access)`);
  return account;
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `timed out after ${REQUEST_TIMEOUT_MS} ms`;
  }
  return error instanceof Error ? error.message : String(error);
}

interface CacheEntry {
  windowEnd: string;
  /** Failures only: when the next call may be made. Successes hold for their whole window. */
  retryAt?: number;
  pool: HyperdrivePool;
}

// One entry per configuration, per isolate. The datasets are minute-grained,
// so an answer holds until the next minute starts and the window moves: each
// isolate asks at most once a minute, two queries (one per dataset) against
// Cloudflare's quota of 300 GraphQL queries per 5 minutes per user
// (https://developers.cloudflare.com/analytics/graphql-api/limits/), which a
// call per request would exhaust under `npm run watch` alone (a request a
// second). A per-isolate cache rather than the Cache API or KV is enough for an
// admin route a few operators poll: a new isolate costs one extra call. Only
// resolved figures are kept, never an in-flight promise: one shared across
// requests is cancelled for the others when the request that started it ends
// (workerd's cross-request promise rule), so two requests missing together
// each make their own call.
const cache = new Map<string, CacheEntry>();

/**
 * The `hyperdrive` block of `/metrics/pool`. Never throws: missing settings are
 * the `not_configured` state (and no call is made), a failure is `unavailable`
 * naming the error.
 */
export async function hyperdrivePoolFigures(env: Env, now = Date.now()): Promise<HyperdrivePool> {
  const settings = hyperdriveAnalyticsSettings(env);
  if ("missing" in settings) return { state: "not_configured", missing: settings.missing };
  const end = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const window = {
    start: new Date(end - WINDOW_MINUTES * MINUTE_MS).toISOString(),
    end: new Date(end).toISOString(),
  };
  const key = `${settings.apiBaseUrl} ${settings.accountId} ${settings.configId}`;
  const cached = cache.get(key);
  if (cached && (cached.retryAt === undefined ? cached.windowEnd === window.end : now < cached.retryAt)) {
    return cached.pool;
  }
  const fetchedAt = new Date(now).toISOString();
  try {
    const account = await queryAnalytics(settings, window);
    const pool: HyperdrivePool = {
      state: "ok",
      config_id: settings.configId,
      window,
      fetched_at: fetchedAt,
      ...mapAccount(account),
    };
    cache.set(key, { windowEnd: window.end, pool });
    return pool;
  } catch (error) {
    const pool: HyperdrivePool = {
      state: "unavailable",
      config_id: settings.configId,
      window,
      fetched_at: fetchedAt,
      error: `GraphQL Analytics API: ${error instanceof Error ? error.message : String(error)}`,
    };
    cache.set(key, { windowEnd: window.end, retryAt: now + FAILURE_TTL_MS, pool });
    return pool;
  }
}
