/**
 * stacks/index.ts, Pulumi.yaml and the example stack files, together: the program is run as the Pulumi
 * CLI would run it (config from a stack file, Pulumi.yaml's defaults for every key the file leaves out,
 * secrets set separately), on Pulumi's runtime with the Recorder mocks. The CLI itself cannot run here:
 * its own checks of Pulumi.yaml (the project schema, "missing configuration value") are restated below
 * from its source (sdk/go/common/workspace/project.json and loaders), not executed.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { CMD, isSecretInput, Recorder, selfSignedAs } from "./helpers/mocks";
import { inputs, plainOccurrences } from "./helpers/recorded";
import { hasOpenssl, opensslCa } from "./helpers/sh";
import * as yaml from "js-yaml";

const ROOT = path.join(__dirname, "..", "..");
const SSH_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nFAKE-PRIVATE-KEY from config\n-----END OPENSSH PRIVATE KEY-----\n";

interface Declaration {
  type?: string;
  items?: { type: string };
  default?: unknown;
  secret?: boolean;
  description?: string;
}
const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
  main: string;
  config: Record<string, Declaration>;
};
const EXAMPLES = ["aws-example", "bare-metal-example"];

function stackFile(stack: string): Record<string, unknown> {
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  return doc.config;
}

/** A config value as the CLI hands it to the program: text, with lists and objects as JSON. */
function asText(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
}

/**
 * The config the CLI would hand the program: the stack's values, Pulumi.yaml's default for every declared
 * key the stack leaves out, and the secrets (which `pulumi config set --secret` would have stored).
 */
function cliConfig(values: Record<string, unknown>, secrets: Record<string, string> = {}) {
  const config: Record<string, string> = {};
  for (const [key, d] of Object.entries(project.config)) {
    if (d.default !== undefined) config[key] = asText(d.default);
  }
  for (const [key, v] of Object.entries(values)) config[key] = asText(v);
  Object.assign(config, secrets);
  const secretKeys = Object.keys(project.config).filter((k) => project.config[k].secret);
  return { config, secretKeys };
}

let caPem: string;
/** Every `hakube:*` key the program read (Config.get and requireSecret), across the tests. */
const keysRead = new Set<string>();

/** Runs stacks/index.ts (Pulumi.yaml's main) afresh with this config; returns its exports. */
async function run(config: Record<string, string>, secretKeys: string[] = []) {
  const rec = new Recorder(selfSignedAs(caPem));
  await rec.install();
  pulumi.runtime.setAllConfig(config, secretKeys);
  const main = require.resolve(path.join(ROOT, project.main));
  delete require.cache[main];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exports = require(main) as Record<string, unknown>;
  await rec.idle();
  return { rec, exports };
}

/** Runs it and returns the error it throws (failing if it throws none), with nothing created. */
async function refused(config: Record<string, string>): Promise<string> {
  const rec = new Recorder();
  await rec.install();
  let message: string | undefined;
  try {
    await run(config);
  } catch (e) {
    assert.ok(pulumi.RunError.isInstance(e), `a RunError (printed without a stack trace): ${e}`);
    message = (e as Error).message;
  }
  await rec.idle();
  assert.ok(message !== undefined, "the program ran");
  return message;
}

describe("stacks/index.ts, Pulumi.yaml and the example stacks", () => {
  const get = pulumi.Config.prototype.get;
  const requireSecret = pulumi.Config.prototype.requireSecret;

  before(function () {
    if (!hasOpenssl()) this.skip();
    caPem = opensslCa("cfg-ca").certPem;
    pulumi.Config.prototype.get = function (this: pulumi.Config, key: string, ...rest: unknown[]) {
      if (this.name === "hakube") keysRead.add(`hakube:${key}`);
      return (get as (...a: unknown[]) => string | undefined).call(this, key, ...rest);
    } as typeof get;
    pulumi.Config.prototype.requireSecret = function (this: pulumi.Config, key: string, ...rest: unknown[]) {
      if (this.name === "hakube") keysRead.add(`hakube:${key}`);
      return (requireSecret as (...a: unknown[]) => pulumi.Output<string>).call(this, key, ...rest);
    } as typeof requireSecret;
  });

  after(() => {
    pulumi.Config.prototype.get = get;
    pulumi.Config.prototype.requireSecret = requireSecret;
    pulumi.runtime.setAllConfig({});
  });

  describe("Pulumi.yaml", () => {
    it("declares every key in a form Pulumi's project schema accepts", () => {
      for (const [key, d] of Object.entries(project.config)) {
        assert.match(key, /^hakube:[a-zA-Z0-9]+$/, key);
        assert.ok(typeof d.description === "string" && d.description.length > 10, `${key}: description`);
        // project.json: type is one of these (no "object" before recent CLIs); arrays name their items.
        if (d.type !== undefined)
          assert.ok(["string", "integer", "boolean", "array"].includes(d.type), `${key}: ${d.type}`);
        if (d.type === "array")
          assert.ok(d.items && ["string", "integer", "boolean"].includes(d.items.type), `${key}: items`);
        const allowed = ["type", "items", "default", "secret", "description"];
        assert.deepEqual(
          Object.keys(d).filter((k) => !allowed.includes(k)),
          [],
          key,
        );
        if (d.type === "integer") assert.ok(Number.isInteger(d.default), `${key}: integer default`);
        if (d.type === "boolean") assert.equal(typeof d.default, "boolean", `${key}: boolean default`);
        if (d.type === "string")
          assert.equal(typeof d.default === "string" || key === "hakube:platform", true, key);
        if (d.type === "array") assert.ok(Array.isArray(d.default), `${key}: array default`);
      }
    });

    it("gives every key but hakube:platform a default, so a stack of one platform needs no key of another", () => {
      // The CLI refuses a stack that lacks a declared key with no default ("Stack 'x' is missing
      // configuration value 'hakube:...'"), whatever the platform.
      const required = Object.entries(project.config)
        .filter(([, d]) => d.default === undefined)
        .map(([k]) => k);
      assert.deepEqual(required, ["hakube:platform"]);
      for (const [key, d] of Object.entries(project.config)) {
        if (d.secret) assert.equal(d.default, "", `${key}: a secret's default is empty, never a value`);
      }
    });

    it("leaves every default to the code: each key's default is its empty value, never a setting", () => {
      // A value here would be a second copy of a default the code owns (AWS_DEFAULTS, the components'
      // defaults), free to drift from it. 0 and -1 are "not set" for whole numbers (see their descriptions).
      const empty = (d: Declaration) =>
        d.default === "" ||
        d.default === false ||
        d.default === 0 ||
        d.default === -1 ||
        (Array.isArray(d.default) && d.default.length === 0) ||
        (typeof d.default === "object" && d.default !== null && Object.keys(d.default).length === 0);
      const valued = Object.entries(project.config)
        .filter(([key, d]) => key !== "hakube:platform" && !empty(d))
        .map(([key, d]) => `${key}: ${JSON.stringify(d.default)}`);
      assert.deepEqual(valued, []);
      for (const [key, d] of Object.entries(project.config)) {
        if (d.default === 0 || d.default === -1)
          assert.match(
            String(d.description),
            new RegExp(`${d.default}: `),
            `${key} says what ${d.default} means`,
          );
      }
    });
  });

  describe("example stacks", () => {
    for (const stack of EXAMPLES) {
      it(`Pulumi.${stack}.yaml uses declared keys only and holds no secret in clear text`, () => {
        const values = stackFile(stack);
        for (const key of Object.keys(values)) {
          if (key.startsWith("aws:")) continue; // the AWS provider's own config
          assert.ok(project.config[key], `${key} is not declared in Pulumi.yaml`);
          if (project.config[key].secret) {
            const v = values[key] as { secure?: string };
            assert.ok(
              typeof v === "object" && typeof v?.secure === "string",
              `${key} must be set with --secret`,
            );
          }
        }
        const text = fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
        assert.doesNotMatch(text, /BEGIN [A-Z ]*PRIVATE KEY/);
        assert.match(text, /pulumi config set --secret|No secret is needed/);
      });
    }

    it("aws-example runs with Pulumi.yaml's defaults: 3 masters, 3 workers, NLB, stacked etcd", async () => {
      const { config, secretKeys } = cliConfig(stackFile("aws-example"));
      const { rec, exports } = await run(config, secretKeys);
      assert.deepEqual(rec.names("aws:ec2/instance:Instance"), ["m1", "m2", "m3", "w1", "w2", "w3"]);
      assert.equal(rec.byType("aws:lb/loadBalancer:LoadBalancer").length, 1);
      assert.deepEqual(inputs(rec.get("nodes-ssh-0")).cidrIpv4, "192.0.2.0/24");
      assert.ok(!rec.names(CMD).some((n) => n.startsWith("etcd-")));
      assert.equal(
        await new Promise((r) => (exports.endpoint as pulumi.Output<string>).apply(r)),
        "api.hakube.internal:6443",
      );
      assert.deepEqual(inputs(rec.get("w1")).tags, {
        project: "hakube-example",
        Name: "test-w1",
        "hakube:role": "worker",
      });
    });

    it("bare-metal-example runs with Pulumi.yaml's defaults and its secret: VIP + HAProxy, stacked etcd", async () => {
      const { config, secretKeys } = cliConfig(stackFile("bare-metal-example"), {
        "hakube:sshPrivateKey": SSH_KEY,
      });
      const { rec, exports } = await run(config, secretKeys);
      assert.equal(rec.names(CMD).filter((n) => n.startsWith("k8s-") && n.endsWith("-prepare")).length, 5);
      assert.equal(rec.names(CMD).filter((n) => n.startsWith("api-lb-")).length, 9);
      assert.equal(rec.names(CMD).filter((n) => n.startsWith("api-vip-")).length, 10);
      assert.equal(
        await new Promise((r) => (exports.endpoint as pulumi.Output<string>).apply(r)),
        "10.0.0.10:8443",
      );
      // The key from config reaches every connection, as a secret only.
      for (const r of rec.byType(CMD)) {
        assert.ok(isSecretInput(r.inputs.connection), r.name);
        assert.equal((inputs(r).connection as Record<string, unknown>).privateKey, SSH_KEY, r.name);
      }
      assert.ok(
        !rec.resources.some((r) => plainOccurrences(r.inputs, "FAKE-PRIVATE-KEY from config").length > 0),
      );
      assert.ok(await pulumi.isSecret(exports.kubeconfig as pulumi.Output<string>));
    });
  });

  describe("config errors", () => {
    const bare = (values: Record<string, unknown>, secrets: Record<string, string> = {}) =>
      cliConfig({ "hakube:platform": "bare-metal", ...values }, secrets).config;
    const aws = (values: Record<string, unknown>) =>
      cliConfig({ "hakube:platform": "aws", ...values }).config;

    it("name hakube:platform when it is missing or unknown", async () => {
      assert.equal(
        await refused({}),
        'hakube:platform must be one of aws, bare-metal, got "" (pulumi config set hakube:platform <platform>)',
      );
      assert.equal(
        await refused({ "hakube:platform": "gcp" }),
        'hakube:platform must be one of aws, bare-metal, got "gcp" (pulumi config set hakube:platform <platform>)',
      );
    });

    it("aws: list every missing required key at once, by name", async () => {
      const message = await refused(aws({}));
      assert.equal(
        message,
        [
          "hakube config for platform aws is invalid:",
          '  - hakube:kubernetesVersion is required for platform aws: the Kubernetes release, e.g. "1.31.4"',
          '  - hakube:cniVersion is required for platform aws: the cilium chart version to install, pinned ("1.16.5" for cilium, "v3.29.1" for calico), or set hakube:cni none',
          '  - hakube:awsAmi is required for platform aws: the AMI of every instance, e.g. a Debian 12 or Ubuntu 24.04 AMI of the region ("ami-0123456789abcdef0")',
        ].join("\n"),
      );
    });

    it("aws: name keys of the wrong type or value, and zones outside aws:region", async () => {
      const base = {
        "hakube:kubernetesVersion": "1.31.4",
        "hakube:cni": "none",
        "hakube:awsAmi": "ami-0123",
        "hakube:awsSshCidrs": ["192.0.2.0/24"],
      };
      const message = await refused({
        ...aws({
          ...base,
          "hakube:awsMasterCount": "three",
          "hakube:awsNatGateways": "many",
          "hakube:etcdTopology": "external",
        }),
        "hakube:awsZones": "us-east-1a",
        "hakube:awsAllowSshFromAnywhere": "yes",
      });
      for (const part of [
        "hakube:etcdSha256 is required for platform aws: the sha256 of the etcd release tarball",
        'hakube:awsZones must be a list of strings, got "us-east-1a"',
        'hakube:awsNatGateways must be one of perZone, single, none, got "many"',
        'hakube:awsMasterCount must be a whole number at least 1, got "three"',
        'hakube:awsAllowSshFromAnywhere must be true or false, got "yes"',
      ]) {
        assert.ok(message.includes(part), `${JSON.stringify(message)} lacks ${JSON.stringify(part)}`);
      }
      const region = await refused({ ...aws(base), "aws:region": "eu-west-1" });
      assert.match(
        region,
        /hakube:awsZones names zones outside aws:region eu-west-1: us-east-1a, us-east-1b, us-east-1c \(the default zones; set hakube:awsZones\)$/,
      );
      // The stack's own checks come next, also by key.
      const ssh = await refused(aws({ ...base, "hakube:awsSshCidrs": ["0.0.0.0/0"] }));
      assert.match(
        ssh,
        /^the aws stack has invalid settings:\n {2}- hakube:awsSshCidrs opens SSH to the whole internet/,
      );
    });

    it("aws: a bastion host needs its key", async () => {
      const message = await refused(
        aws({
          "hakube:kubernetesVersion": "1.31.4",
          "hakube:cni": "none",
          "hakube:awsAmi": "ami-0123",
          "hakube:bastion": { host: "203.0.113.5", securityGroupId: "sg-0123", colour: "blue" },
        }),
      );
      assert.match(
        message,
        /hakube:bastion has unknown field\(s\) colour; known: host, port, user, hostKey, securityGroupId/,
      );
      const ok = aws({
        "hakube:kubernetesVersion": "1.31.4",
        "hakube:cni": "none",
        "hakube:awsAmi": "ami-0123",
        "hakube:bastion": { host: "203.0.113.5", securityGroupId: "sg-0123" },
      });
      assert.match(
        await refused(ok),
        /hakube:bastionPrivateKey is required for platform aws: the private key the bastion accepts, with hakube:bastion.host/,
      );
      const { rec } = await run({ ...ok, "hakube:bastionPrivateKey": SSH_KEY }, ["hakube:bastionPrivateKey"]);
      const conn = inputs(rec.get("k8s-m1-init")).connection as Record<string, unknown>;
      assert.deepEqual(
        (({ host, user, privateKey }) => ({ host, user, privateKey }))(conn.proxy as Record<string, unknown>),
        { host: "203.0.113.5", user: "root", privateKey: SSH_KEY },
      );
      assert.deepEqual(inputs(rec.get("nodes-ssh-bastion")).referencedSecurityGroupId, "sg-0123");
    });

    it("bare-metal: name the missing hosts and key, and each bad field of a host", async () => {
      assert.equal(
        await refused(bare({ "hakube:kubernetesVersion": "1.31.4", "hakube:cni": "none" })),
        [
          "hakube config for platform bare-metal is invalid:",
          "  - hakube:sshPrivateKey is required for platform bare-metal: the SSH private key every host accepts (pulumi config set --secret hakube:sshPrivateKey < key)",
          "  - hakube:masters is required for platform bare-metal: the control-plane hosts, each {name, address, hostKey, user?, port?}",
        ].join("\n"),
      );
      const message = await refused(
        bare(
          {
            "hakube:kubernetesVersion": "1.31.4",
            "hakube:cni": "none",
            "hakube:masters": [
              { name: "m1", address: "10.0.0.11", hostKey: "ssh-ed25519 AAAA" },
              { name: "m2", port: "22" },
            ],
            "hakube:workers": "w1",
            "hakube:vipRouterId": 300,
          },
          { "hakube:sshPrivateKey": SSH_KEY },
        ),
      );
      for (const part of [
        "hakube:masters[1].address must be a non-empty string, got undefined",
        "hakube:masters[1].hostKey must be a non-empty string, got undefined",
        'hakube:masters[1].port must be a number, got "22"',
        'hakube:workers must be a list of hosts {name, address, hostKey, user?, port?}, got "w1"',
        'hakube:vipRouterId must be a whole number at least 1 and at most 255, got "300"',
      ]) {
        assert.ok(message.includes(part), `${JSON.stringify(message)} lacks ${JSON.stringify(part)}`);
      }
    });
  });

  describe("the preview workflow", () => {
    const workflow = yaml.load(
      fs.readFileSync(path.join(ROOT, ".github", "workflows", "preview.yml"), "utf8"),
    ) as {
      on: Record<string, unknown>;
      permissions: Record<string, string>;
      jobs: Record<
        string,
        {
          if?: string;
          strategy: { matrix: { stack: string[] } };
          steps: Array<{ uses?: string; with?: Record<string, unknown>; env?: Record<string, string> }>;
        }
      >;
    };
    const job = workflow.jobs.preview;
    const pulumiStep = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;

    it("previews every example stack on pull requests, with Pulumi's action, commenting on the PR", () => {
      assert.ok("pull_request" in workflow.on);
      assert.deepEqual([...job.strategy.matrix.stack].sort(), [...EXAMPLES].sort());
      for (const stack of job.strategy.matrix.stack) {
        assert.ok(fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`)), stack);
      }
      assert.equal(pulumiStep.with?.command, "preview");
      assert.equal(pulumiStep.with?.["comment-on-pr"], true);
      assert.equal(pulumiStep.with?.["stack-name"], "${{ vars.PULUMI_ORG }}/${{ matrix.stack }}");
      assert.equal(pulumiStep.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
    });

    it("asks for the least privilege, takes credentials from secrets, and skips forks (no secrets there)", () => {
      assert.deepEqual(workflow.permissions, {
        contents: "read",
        "pull-requests": "write",
        "id-token": "write",
      });
      assert.match(job.if ?? "", /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
      const aws = job.steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))!;
      assert.equal(aws.with?.["role-to-assume"], "${{ secrets.AWS_PREVIEW_ROLE_ARN }}");
      // No key, token or password in the file itself: only references to secrets.
      const text = fs.readFileSync(path.join(ROOT, ".github", "workflows", "preview.yml"), "utf8");
      assert.doesNotMatch(text, /AKIA[0-9A-Z]{16}|pul-[0-9a-f]{40}|BEGIN [A-Z ]*PRIVATE KEY/);
    });
  });

  // Last (mocha runs a suite's own tests before its nested suites): after every run above.
  describe("coverage of the keys", () => {
    it("reads only keys that Pulumi.yaml declares (and has read every declared key)", () => {
      assert.ok(keysRead.size > 0);
      assert.deepEqual(
        [...keysRead].filter((k) => !project.config[k]),
        [],
        "read but not declared",
      );
      assert.deepEqual(
        Object.keys(project.config).filter((k) => !keysRead.has(k)),
        [],
        "declared but never read by these tests",
      );
    });
  });
});
