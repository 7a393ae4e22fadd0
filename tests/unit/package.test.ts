/**
 * The lighter install: @pulumi/aws is an optional peer dependency, loaded only by a LoadBalancer of kind
 * awsNlb. Proven on the packed package in fresh projects, one without @pulumi/aws (a bare-metal user's)
 * and one with it, each program run by Node under Pulumi's mocks in a process of its own.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { AWS_PACKAGE_RANGE, loadAwsNlb } from "../../components/loadbalancer/kinds";
import { projectWithPackage, ROOT } from "./helpers/pack";

/** Makes one LoadBalancer of `kind` under mocks; prints what was loaded and what was refused as JSON. */
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
pulumi.runtime.setMocks(
  { newResource: (a) => ({ id: a.name + "-id", state: { ...a.inputs, dnsName: "nlb.example", arn: "arn" } }), call: (a) => a.inputs },
  "p", "s", false,
);
const awsLoaded = () => Object.keys(require.cache).filter((k) => k.includes("/@pulumi/aws/")).length;
const hakube = require("hakube");
const out = { afterRequire: awsLoaded() };
const host = (name, address) => ({
  name, address, connection: { host: address, user: "root", privateKey: "not-a-real-key" },
});
const kind = process.argv[2];
try {
  if (kind === "haproxy")
    new hakube.LoadBalancer("api", { kind, haproxy: {
      hosts: [host("lb1", "10.0.0.21"), host("lb2", "10.0.0.22")],
      backends: [1, 2, 3].map((i) => ({ name: "m" + i, address: "10.0.0." + i })),
      bindAddress: "10.0.0.10",
    } });
  else
    new hakube.LoadBalancer("api", { kind, awsNlb: {
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
      targets: [{ name: "m1", id: "i-0123456789abcdef0" }],
    } });
  out.made = true;
} catch (e) {
  out.error = e.message;
}
out.afterConstructor = awsLoaded();
console.log(JSON.stringify(out));
`;

interface Figures {
  afterRequire: number;
  afterConstructor: number;
  made?: boolean;
  error?: string;
}

describe("package: a bare-metal program installs and loads no @pulumi/aws", function () {
  this.timeout(600000);
  const projects: Record<string, string> = {};
  before(() => {
    for (const withAws of [false, true]) {
      const dir = projectWithPackage(withAws ? "with-aws" : "no-aws", withAws);
      fs.writeFileSync(path.join(dir, "program.js"), PROGRAM);
      projects[String(withAws)] = dir;
    }
  });
  after(() => Object.values(projects).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  const runProgram = (withAws: boolean, kind: string): Figures => {
    const r = spawnSync(process.execPath, ["program.js", kind], {
      cwd: projects[String(withAws)],
      encoding: "utf8",
      timeout: 120000,
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as Figures;
  };

  it("declares @pulumi/aws an optional peer, not a dependency", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    assert.equal(pkg.dependencies["@pulumi/aws"], undefined);
    assert.equal(pkg.peerDependencies["@pulumi/aws"], AWS_PACKAGE_RANGE);
    assert.equal(pkg.peerDependenciesMeta["@pulumi/aws"]?.optional, true);
  });

  it("without @pulumi/aws: require('hakube') and a haproxy LoadBalancer work, awsNlb is refused clearly", () => {
    const haproxy = runProgram(false, "haproxy");
    assert.deepEqual(haproxy, { afterRequire: 0, made: true, afterConstructor: 0 });
    const nlb = runProgram(false, "awsNlb");
    assert.equal(nlb.made, undefined);
    assert.equal(
      nlb.error,
      'LoadBalancer api has invalid arguments:\n  - kind "awsNlb" needs the @pulumi/aws package, which is not ' +
        'installed: npm install @pulumi/aws@"^7.48.0" (an optional peer dependency of hakube)',
    );
  });

  it("with @pulumi/aws: nothing of it loads until an awsNlb LoadBalancer is made, which works", () => {
    const haproxy = runProgram(true, "haproxy");
    assert.deepEqual(haproxy, { afterRequire: 0, made: true, afterConstructor: 0 });
    const nlb = runProgram(true, "awsNlb");
    assert.equal(nlb.error, undefined);
    assert.equal(nlb.made, true);
    assert.equal(nlb.afterRequire, 0);
    assert.ok(nlb.afterConstructor > 0, "the NLB kind loaded @pulumi/aws");
  });

  it("rethrows a failure to look @pulumi/aws up that is not its absence", () => {
    const broken = Object.assign(new Error("EACCES"), { code: "EACCES" });
    assert.throws(
      () =>
        loadAwsNlb("LoadBalancer x", () => {
          throw broken;
        }),
      (e) => e === broken,
    );
  });
});
