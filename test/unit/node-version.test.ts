import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");
const packageJson: { engines: { node: string }; devDependencies: { node: string } } = JSON.parse(
  read("package.json"),
);

// One truth about Node: engines, .nvmrc and the Node the project brings agree.
describe("the project's Node version", () => {
  it("is 22.12 or newer in engines and .nvmrc alike", () => {
    expect(packageJson.engines.node).toBe(">=22.12");
    expect(read(".nvmrc").trim()).toBe("22.12");
  });

  it("is what the node devDependency brings, at least the floor", () => {
    const [major, minor] = (packageJson.devDependencies.node.match(/(\d+)\.(\d+)/) ?? [])
      .slice(1)
      .map(Number);
    expect(major).toBe(22);
    expect(minor).toBeGreaterThanOrEqual(12);
  });
});
