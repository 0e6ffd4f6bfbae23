// Run by postinstall: when the machine's Node (the one running npm) is older
// than `engines` asks, says once that the project runs on the Node it brings.
// .npmrc keeps npm from saying it 25 times as warnings.
import { readFileSync } from "node:fs";

const packageJson = readFileSync(new URL("../package.json", import.meta.url), "utf8");
const engines = packageJson.match(/"node":\s*"(>=\s*(\d+)\.(\d+))"/);
// npm's user agent names the Node npm itself runs on: "npm/11.6.0 node/v20.19.0 linux x64 …".
const host = (process.env.npm_config_user_agent ?? "").match(/\bnode\/v(\d+)\.(\d+)\.\d+/);

if (engines && host) {
  const [wantMajor, wantMinor] = [Number(engines[2]), Number(engines[3])];
  const [major, minor] = [Number(host[1]), Number(host[2])];
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    console.log(
      `node: this machine's Node v${host[1]}.${host[2]} only runs npm; every npm run and npx uses the ` +
        `project's own Node ${process.version} (node_modules/.bin/node, engines ${engines[1]}).`,
    );
  }
}
