// `npm run lint` runs this after Biome: no two folders of src/ import each other (Biome's
// noImportCycles catches cycles between modules, not two folders leaning on each other).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src", import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** `api` for src/api/x.ts; a file at the top of src/ (worker.ts) is a unit of its own. */
const unitOf = (path: string) => relative(SRC, path).replace(/\.ts$/, "").split("/")[0] ?? path;

const edges = new Map<string, Set<string>>();
for (const file of files(SRC)) {
  for (const [, spec] of readFileSync(file, "utf8").matchAll(/from "(\.{1,2}\/[^"]+)"/g)) {
    if (spec === undefined) continue;
    const target = unitOf(resolve(dirname(file), spec));
    const source = unitOf(file);
    if (target !== source) edges.set(source, (edges.get(source) ?? new Set()).add(target));
  }
}
const mutual = [...edges].flatMap(([from, tos]) =>
  [...tos].filter((to) => from < to && edges.get(to)?.has(from)).map((to) => `${from} <-> ${to}`),
);
if (mutual.length > 0) {
  console.error(`src/ folders that import each other: ${mutual.join(", ")}`);
  process.exit(1);
}
