// npm run docs:assets (also run by postinstall): copies Swagger UI from the
// swagger-ui-dist package into public/swagger-ui/, the Worker's static assets
// behind /docs, so the page renders with no internet. The copy is not
// committed; this script makes it again from whatever version is installed.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE"];

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const source = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const target = join(root, "public", "swagger-ui");

rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const file of FILES) copyFileSync(join(source, file), join(target, file));
console.log(`docs assets: ${FILES.length} files from swagger-ui-dist into ${relative(root, target)}/`);
