/**
 * The unit tests' mocks: lab/stack/recorder.ts's Recorder (shared with the topology benchmark, which must
 * not import tests/), and the capture of Pulumi's warnings, which needs mocha's hooks.
 */
import * as pulumi from "@pulumi/pulumi";

export * from "../../../lab/stack/recorder";

/**
 * Collect what pulumi.log.warn is given from each test's start to its end (in a describe: installs
 * beforeEach/afterEach hooks). Read `warnings.list` inside a test.
 */
export function captureWarnings(): { list: string[] } {
  const warnings = { list: [] as string[] };
  const original = pulumi.log.warn;
  beforeEach(() => {
    warnings.list = [];
    (pulumi.log as { warn: typeof original }).warn = async (msg: string) => {
      warnings.list.push(msg);
    };
  });
  afterEach(() => {
    (pulumi.log as { warn: typeof original }).warn = original;
  });
  return warnings;
}
