// Applies the drizzle-kit migrations in ./migrations; already applied ones are
// skipped (drizzle records them in drizzle.__drizzle_migrations).
import { fileURLToPath, pathToFileURL } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { errorMessage, redactUrl } from "./net.js";
import { connectClient } from "./pg-client.js";

const MIGRATIONS_FOLDER = fileURLToPath(new URL("../migrations", import.meta.url));

export async function migrateDatabase(url: string): Promise<void> {
  const client = await connectClient(url);
  try {
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await client.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error(
      "db:migrate: set DATABASE_URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/bidding npm run db:migrate",
    );
    process.exit(1);
  }
  try {
    await migrateDatabase(url);
    console.log(`Migrations applied to ${redactUrl(url)}`);
  } catch (error) {
    console.error(`db:migrate: ${errorMessage(error)}`);
    process.exit(1);
  }
}
