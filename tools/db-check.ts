// Checks that bids has its one-row-per-user-per-session guarantee: a UNIQUE
// constraint (or unique index) on exactly (session_id, user_id).
import { pathToFileURL } from "node:url";
import pg from "pg";
import { errorMessage, redactUrl } from "./net.js";

export type BidsUniqueCheck =
  | { ok: true; name: string; kind: "constraint" | "index" }
  | { ok: false; problem: string };

const REQUIRED_COLUMNS = ["session_id", "user_id"];

interface UniqueKeyRow {
  index_name: string;
  constraint_name: string | null;
  columns: string[];
}

// Key columns only (INCLUDE columns do not take part in uniqueness); partial and
// invalid indexes are left out because they do not enforce it for every row.
const UNIQUE_KEYS_SQL = `
  select i.indexrelid::regclass::text as index_name,
         c.conname::text as constraint_name,
         array(
           select a.attname::text
           from unnest(i.indkey) with ordinality as k(attnum, position)
           join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
           where k.position <= i.indnkeyatts
           order by k.position
         ) as columns
  from pg_index i
  left join pg_constraint c on c.conindid = i.indexrelid and c.contype in ('u', 'p')
  where i.indrelid = to_regclass('bids') and i.indisunique and i.indisvalid and i.indpred is null
  order by 1`;

export async function checkBidsUniqueConstraint(url: string): Promise<BidsUniqueCheck> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    return { ok: false, problem: `cannot connect to ${redactUrl(url)}: ${errorMessage(error)}` };
  }
  try {
    const table = await client.query<{ exists: boolean }>("select to_regclass('bids') is not null as exists");
    if (table.rows[0]?.exists !== true) {
      return {
        ok: false,
        problem: `table bids does not exist in ${redactUrl(url)} (run npm run db:migrate)`,
      };
    }
    const keys = await client.query<UniqueKeyRow>(UNIQUE_KEYS_SQL);
    // Column order does not change what a unique key guarantees.
    const match = keys.rows.find((key) => [...key.columns].sort().join(",") === REQUIRED_COLUMNS.join(","));
    if (match !== undefined) {
      return match.constraint_name === null
        ? { ok: true, name: match.index_name, kind: "index" }
        : { ok: true, name: match.constraint_name, kind: "constraint" };
    }
    const found = keys.rows.map(
      (key) => `${key.constraint_name ?? key.index_name} (${key.columns.join(", ")})`,
    );
    return {
      ok: false,
      problem: `no UNIQUE constraint or unique index on bids (session_id, user_id); unique keys found: ${found.length > 0 ? found.join("; ") : "none"}`,
    };
  } catch (error) {
    return { ok: false, problem: errorMessage(error) };
  } finally {
    await client.end().catch(() => {});
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.log(
      "❌ FAILURE: DATABASE_URL is not set, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/bidding npm run db:check",
    );
    process.exit(1);
  }
  const result = await checkBidsUniqueConstraint(url);
  if (result.ok) {
    console.log("✅ SUCCESS: (session_id, user_id) unique constraint exists on bids");
    process.exit(0);
  }
  console.log(`❌ FAILURE: ${result.problem}`);
  process.exit(1);
}
