/**
 * The unit tests' mocks: lab/stack/recorder.ts's Recorder (shared with the topology benchmark, which must
 * not import tests/), a program run under it, the capture of Pulumi's warnings, which needs mocha's hooks,
 * and the bounds of a large topology. What it recorded is read with ./recorded.ts.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { ProgramFigures, Recorder, selfSignedAs } from "../../../lab/stack/recorder";

export * from "../../../lab/stack/recorder";

/** Pulumi type tokens the tests look resources up by. */
export const CMD = "command:remote:Command";
export const KEY = "tls:index/privateKey:PrivateKey";
export const SELF = "tls:index/selfSignedCert:SelfSignedCert";
export const CSR = "tls:index/certRequest:CertRequest";
export const SIGNED = "tls:index/locallySignedCert:LocallySignedCert";
export const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
export const INSTANCE = "aws:ec2/instance:Instance";
export const RANDOM_ID = "random:index/randomId:RandomId";
export const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";
export const RANDOM_STRING = "random:index/randomString:RandomString";
export const RANDOM_BYTES = "random:index/randomBytes:RandomBytes";

/**
 * Run `program` under fresh mocks until every resource it makes is registered; `certPem` (a real CA) for
 * every self-signed certificate when given, `jitterMs` to let independent creations race.
 */
export async function underMocks<T>(
  program: () => T,
  opts: { certPem?: string; jitterMs?: number } = {},
): Promise<{ rec: Recorder; out: T }> {
  const rec = new Recorder(opts.certPem === undefined ? undefined : selfSignedAs(opts.certPem));
  await rec.install(opts.jitterMs);
  const out = program();
  await rec.idle();
  return { rec, out };
}

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

/**
 * Print what a large topology took (Recorder.measure) under `label`, and check its bounds: the program
 * within 5 s, every resource registered within 60 s, a peak RSS under 2 GiB.
 */
export function reportTopology(label: string, rec: Recorder, f: ProgramFigures): void {
  const mb = (n: number) => (n / 1048576).toFixed(0);
  console.log(
    `      ${label}: ${rec.resources.length} resources; program ${f.programMs.toFixed(0)} ms, all registered ${f.registeredMs.toFixed(0)} ms; heap ${mb(f.heapBefore)} -> peak ${mb(f.peakHeap)} MB, peak rss ${mb(f.peakRss)} MB`,
  );
  assert.ok(f.programMs < 5000, `program took ${f.programMs} ms`);
  assert.ok(f.registeredMs < 60000, `registration took ${f.registeredMs} ms`);
  assert.ok(f.peakRss < 2 * 1024 * 1048576, `peak rss ${mb(f.peakRss)} MB`);
}
