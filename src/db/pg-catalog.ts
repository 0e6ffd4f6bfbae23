import { integer, pgView, text } from "drizzle-orm/pg-core";

/** PostgreSQL's own view of its connections (read-only; not part of our migrations). */
export const pgStatActivity = pgView("pg_stat_activity", {
  pid: integer("pid"),
  applicationName: text("application_name"),
  state: text("state"),
  waitEventType: text("wait_event_type"),
}).existing();
