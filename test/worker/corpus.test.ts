// The bad-input corpus (test/corpus/*) through the Worker: every case a
// Request can carry must be answered with the 4xx problem document it
// expects, and change nothing, in PostgreSQL or in the fixture sessions'
// objects. The cases that need a raw socket run live (`npm run corpus`).
import { beforeAll, describe, expect, inject, it } from "vitest";
import { CorpusApi } from "../corpus/api";
import { runControls } from "../corpus/controls";
import { type CaseResult, CaseRunner } from "../corpus/execute";
import { createFixtures, FIXTURE_SESSIONS, type Fixtures, placeholderValues } from "../corpus/fixtures";
import { useProviderKeys } from "../corpus/provider-tokens";
import { type BuiltCase, buildCases } from "../corpus/raw-only";
import { RequestBuilder } from "../corpus/request";
import { diffStates, namesSent, StateReader } from "../corpus/snapshot";
import { THEMES } from "../corpus/themes";
import { queryRows, signTestToken, workerTransport } from "../support/corpus";
import { fireAlarm } from "../support/objects";

/** The raw-socket runner is for the few cases fetch cannot send; a wider rule would empty this suite quietly. */
const MAX_RAW_ONLY = 40;

let runner: CaseRunner;
let state: StateReader;
let fixtures: Fixtures;
let cases: BuiltCase[];

/** The state once every fixture session has flushed: alarms run now instead of in 5 s. */
async function settledState() {
  for (const name of FIXTURE_SESSIONS) await fireAlarm(fixtures.sessions[name].id);
  const unsettled = await state.settle(5_000);
  if (unsettled !== null) throw new Error(`the fixtures did not settle: ${unsettled}`);
  const { database, api } = await state.snapshot();
  return { database, api };
}

const describeFailure = (r: CaseResult) =>
  `${r.name}: ${r.reasons.join("; ")} (${r.request.method} ${r.request.target.slice(0, 100)} → ` +
  `${r.response ? `${r.response.status} ${r.response.body.slice(0, 160)}` : "no response"})`;

beforeAll(async () => {
  const api = new CorpusApi(workerTransport);
  fixtures = await createFixtures(api, inject("jwtSecret"), signTestToken);
  // The provider-token cases sign with the keys the stand-in provider publishes, so each is refused for its own flaw.
  useProviderKeys(fixtures.kit, inject("providerKeys"));
  runner = new CaseRunner(workerTransport, new RequestBuilder(fixtures.kit, placeholderValues(fixtures)));
  // Without working controls (fixtures, tokens, the kit's signer) a passing case proves nothing.
  const failedControls = (await runControls(runner)).filter((c) => !c.passed);
  if (failedControls.length > 0) {
    const lines = failedControls.map((c) => `${c.name}: expected ${c.expected}, got ${c.status} ${c.detail}`);
    throw new Error(`controls failed:\n${lines.join("\n")}`);
  }
  cases = await buildCases(runner.builder, THEMES);
  state = new StateReader(queryRows, api, {
    fixtures,
    names: namesSent(cases.map((c) => c.request)),
    wholeTables: false,
  });
}, 60_000);

describe("the bad-input corpus through the Worker", () => {
  it(`leaves at most ${MAX_RAW_ONLY} cases to the raw-socket runner`, () => {
    const rawOnly = cases.filter((c) => c.rawOnly !== undefined);
    expect(rawOnly.length).toBeLessThanOrEqual(MAX_RAW_ONLY);
    expect(cases.length - rawOnly.length).toBeGreaterThan(500);
  });

  for (const { theme } of THEMES) {
    it(`${theme}: each case a 4xx problem document, state unchanged`, async () => {
      const mine = cases.filter((c) => c.theme === theme && c.rawOnly === undefined);
      expect(mine.length).toBeGreaterThan(0);
      const before = await settledState();
      // One at a time: fast enough (about 1 ms a case), and PGlite's socket server
      // mixes up the protocol messages of concurrent connections.
      const results: CaseResult[] = [];
      for (const c of mine) results.push(await runner.run(theme, c.corpusCase, c.request));
      const after = await settledState();
      const failures = results.filter((r) => !r.passed).map(describeFailure);
      expect({ failures, stateChanges: diffStates(before, after) }).toEqual({
        failures: [],
        stateChanges: [],
      });
    });
  }
});
