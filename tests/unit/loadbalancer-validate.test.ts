import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import {
  AwsNlbScheme,
  AwsNlbTargetType,
  LoadBalancerArgs,
  LoadBalancerKind,
} from "../../components/loadbalancer/types";
import { InstallMethod } from "../../components/install";
import { validateLoadBalancerArgs } from "../../components/loadbalancer/validate";
import { hosts } from "./helpers/hosts";
import { haproxyArgs, nlbArgs, haproxyLb, nlbLb } from "./helpers/loadbalancer";

function errors(a: LoadBalancerArgs | undefined) {
  return validateLoadBalancerArgs(a).errors.map((e) => `${e.path}: ${e.message}`);
}
function warnings(a: LoadBalancerArgs) {
  return validateLoadBalancerArgs(a).warnings.map((e) => `${e.path}: ${e.message}`);
}

describe("LoadBalancer validation", () => {
  it("accepts haproxy and awsNlb with the defaults", () => {
    assert.deepEqual(validateLoadBalancerArgs(haproxyLb()), { errors: [], warnings: [] });
    assert.deepEqual(validateLoadBalancerArgs(nlbLb()), { errors: [], warnings: [] });
  });
  it("refuses missing args and unknown kinds", () => {
    assert.deepEqual(errors(undefined), [
      ": args must be an object with kind and its block of settings, got undefined",
    ]);
    assert.deepEqual(errors({ kind: "nginx" as LoadBalancerKind }), [
      'kind: kind must be one of haproxy, awsNlb, got "nginx"',
    ]);
  });

  describe("one block per kind", () => {
    it("refuses the other kind's block, naming both", () => {
      assert.deepEqual(errors({ ...haproxyLb(), awsNlb: nlbArgs() }), [
        'awsNlb: Only one of [haproxy] or [awsNlb] can be specified: kind is "haproxy", so give haproxy and remove awsNlb',
      ]);
      assert.deepEqual(errors({ ...nlbLb(), haproxy: haproxyArgs() }), [
        'haproxy: Only one of [haproxy] or [awsNlb] can be specified: kind is "awsNlb", so give awsNlb and remove haproxy',
      ]);
    });
    it("requires the chosen kind's block", () => {
      assert.deepEqual(errors({ kind: LoadBalancerKind.Haproxy }), [
        'haproxy: haproxy is required with kind "haproxy", got undefined',
      ]);
      assert.deepEqual(errors({ kind: LoadBalancerKind.AwsNlb, haproxy: haproxyArgs() }), [
        'awsNlb: awsNlb is required with kind "awsNlb", got undefined',
        'haproxy: Only one of [haproxy] or [awsNlb] can be specified: kind is "awsNlb", so give awsNlb and remove haproxy',
      ]);
    });
  });

  it("checks ports", () => {
    assert.deepEqual(errors(haproxyLb({}, { port: 0, backendPort: 65536 })), [
      "port: port must be a port number 1-65535, got 0",
      "backendPort: backendPort must be a port number 1-65535, got 65536",
    ]);
  });

  describe("haproxy", () => {
    it("needs hosts and backends", () => {
      assert.deepEqual(errors(haproxyLb({ hosts: [], backends: [] })), [
        "haproxy.hosts: haproxy.hosts must list at least one host, got []",
        "haproxy.backends: haproxy.backends must list at least one API server, got []",
      ]);
    });
    it("warns about a single host or backend", () => {
      assert.deepEqual(
        warnings(haproxyLb({ hosts: hosts(1), backends: [{ name: "m1", address: "10.0.0.11" }] })),
        [
          "haproxy.hosts: haproxy.hosts has 1: the load balancer itself is a single point of failure; use 2 or more behind a KeepalivedVip",
          "haproxy.backends: haproxy.backends has 1: there is no other API server to fail over to",
        ],
      );
    });
    it("warns when several hosts share no address", () => {
      assert.deepEqual(warnings(haproxyLb({ bindAddress: undefined })), [
        "haproxy.bindAddress: haproxy has 2 hosts but no bindAddress: the address and endpoint outputs name the first host only; put a KeepalivedVip in front and set bindAddress to its address",
      ]);
    });
    it("checks backends: names, addresses (IP or DNS name), duplicates", () => {
      assert.deepEqual(
        errors(
          haproxyLb({
            backends: [
              { name: "m1", address: "10.0.0.11" },
              { name: "m1", address: "master-2.example.internal" },
              { name: "M3", address: "10.0.0.11" },
              { name: "m4", address: "bad address" },
            ],
          }),
        ),
        [
          'haproxy.backends[1].name: haproxy.backends[1].name "m1" is already used by haproxy.backends[0]',
          "haproxy.backends[2].name: haproxy.backends[2].name must be a DNS label (lower-case letters, digits and '-', 1-63 characters, starting and ending with a letter or digit), got \"M3\"",
          'haproxy.backends[2].address: haproxy.backends[2].address "10.0.0.11" is already used by haproxy.backends[0]',
          'haproxy.backends[3].address: haproxy.backends[3].address must be an IP address or a DNS name, got "bad address"',
        ],
      );
    });
    it("checks the bind address", () => {
      assert.deepEqual(errors(haproxyLb({ bindAddress: "10.0.0.10/24" })), [
        'haproxy.bindAddress: haproxy.bindAddress must be an IPv4 or IPv6 address (without prefix), got "10.0.0.10/24"',
      ]);
      assert.deepEqual(errors(haproxyLb({ bindAddress: "fd00::10" })), []);
    });
    it("keeps the health port apart from the frontend port", () => {
      assert.deepEqual(errors(haproxyLb({ healthPort: 6443 })), [
        "haproxy.healthPort: haproxy.healthPort must differ from port, both are 6443",
      ]);
      assert.deepEqual(errors(haproxyLb({}, { port: 8404 })), [
        "haproxy.healthPort: haproxy.healthPort must differ from port, both are 8404",
      ]);
      assert.deepEqual(errors(haproxyLb({ healthPort: 0 })), [
        "haproxy.healthPort: haproxy.healthPort must be a port number 1-65535, got 0",
      ]);
    });
    it("checks check timings", () => {
      assert.deepEqual(errors(haproxyLb({ check: { intervalMs: 50, fall: 0, rise: 2.5 } })), [
        "haproxy.check.intervalMs: haproxy.check.intervalMs must be a whole number of milliseconds 100-60000, got 50",
        "haproxy.check.fall: haproxy.check.fall must be a whole number 1-100, got 0",
        "haproxy.check.rise: haproxy.check.rise must be a whole number 1-100, got 2.5",
      ]);
    });
    it("checks a CA given as text, and accepts one given as an Output", () => {
      assert.deepEqual(errors(haproxyLb({ caCertPem: "not a certificate" })), [
        'haproxy.caCertPem: haproxy.caCertPem must be a PEM certificate ("-----BEGIN CERTIFICATE-----..."), got "not a certificate"',
      ]);
      assert.deepEqual(errors(haproxyLb({ caCertPem: pulumi.output("later") })), []);
    });
    it("checks install", () => {
      assert.deepEqual(errors(haproxyLb({ install: { method: "docker" as InstallMethod, binDir: "/" } })), [
        'haproxy.install.method: haproxy.install.method must be one of package, preinstalled, got "docker"',
        "haproxy.install.binDir: haproxy.install.binDir must be an absolute path of letters, digits, '.', '_', '-' and '/', got \"/\"",
      ]);
    });
  });

  describe("awsNlb", () => {
    it("needs at least two subnets", () => {
      assert.deepEqual(errors(nlbLb({ subnetIds: ["subnet-0123456789abcdef0"] })), [
        "awsNlb.subnetIds: awsNlb.subnetIds must list at least two subnets in different Availability Zones, got 1",
      ]);
      assert.deepEqual(
        errors(nlbLb({ subnetIds: [pulumi.output("subnet-a"), pulumi.output("subnet-b")] })),
        [],
      );
    });
    it("checks ids given as text", () => {
      assert.deepEqual(
        errors(
          nlbLb({
            vpcId: "vpc-1",
            subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef0", "sn-1"],
          }),
        ),
        [
          'awsNlb.vpcId: awsNlb.vpcId must be a VPC id such as "vpc-0123456789abcdef0", got "vpc-1"',
          'awsNlb.subnetIds[1]: awsNlb.subnetIds[1] "subnet-0123456789abcdef0" is already listed at awsNlb.subnetIds[0]',
          'awsNlb.subnetIds[2]: awsNlb.subnetIds[2] must be a subnet id such as "subnet-0123456789abcdef0", got "sn-1"',
        ],
      );
    });
    it("checks scheme and target type", () => {
      assert.deepEqual(
        errors(nlbLb({ scheme: "public" as AwsNlbScheme, targetType: "lambda" as AwsNlbTargetType })),
        [
          'awsNlb.scheme: awsNlb.scheme must be one of internal, internet-facing, got "public"',
          'awsNlb.targetType: awsNlb.targetType must be one of instance, ip, got "lambda"',
        ],
      );
    });
    it("checks targets against the target type", () => {
      assert.deepEqual(errors(nlbLb({ targets: [{ name: "m1", id: "10.0.0.11" }] })), [
        'awsNlb.targets[0].id: awsNlb.targets[0].id must be an EC2 instance id such as "i-0123456789abcdef0" with targetType "instance", got "10.0.0.11"',
      ]);
      assert.deepEqual(
        errors(
          nlbLb({ targetType: AwsNlbTargetType.Ip, targets: [{ name: "m1", id: "i-0123456789abcdef0" }] }),
        ),
        [
          'awsNlb.targets[0].id: awsNlb.targets[0].id must be an IP address with targetType "ip", got "i-0123456789abcdef0"',
        ],
      );
      assert.deepEqual(
        errors(nlbLb({ targetType: AwsNlbTargetType.Ip, targets: [{ name: "m1", id: "10.0.0.11" }] })),
        [],
      );
      assert.deepEqual(
        errors(
          nlbLb({
            targets: [
              { name: "m1", id: pulumi.output("i-x") },
              { name: "m1", id: "i-0123456789abcdef1" },
            ],
          }),
        ),
        ['awsNlb.targets[1].name: awsNlb.targets[1].name "m1" is already used by awsNlb.targets[0]'],
      );
      assert.deepEqual(errors(nlbLb({ targets: undefined })), [], "targets can be registered later");
    });
    it("checks allowed CIDR blocks and warns about the whole internet", () => {
      assert.deepEqual(errors(nlbLb({ allowedCidrs: ["10.0.0.5/16", "10.1.0.0"] })), [
        'awsNlb.allowedCidrs[0]: awsNlb.allowedCidrs[0] must be a CIDR block with no host bits set, such as "10.0.0.0/16", got "10.0.0.5/16"',
        'awsNlb.allowedCidrs[1]: awsNlb.allowedCidrs[1] must be a CIDR block with no host bits set, such as "10.0.0.0/16", got "10.1.0.0"',
      ]);
      assert.deepEqual(errors(nlbLb({ allowedCidrs: [] })), [
        "awsNlb.allowedCidrs: awsNlb.allowedCidrs must list at least one CIDR block (leave it out for the VPC's own), got []",
      ]);
      assert.deepEqual(warnings(nlbLb({ allowedCidrs: ["0.0.0.0/0", "::/0"] })), [
        'awsNlb.allowedCidrs[0]: awsNlb.allowedCidrs[0] is "0.0.0.0/0": anyone who can route to the load balancer may connect to the Kubernetes API',
        'awsNlb.allowedCidrs[1]: awsNlb.allowedCidrs[1] is "::/0": anyone who can route to the load balancer may connect to the Kubernetes API',
      ]);
    });
    it("warns when an internet-facing NLB only admits the VPC", () => {
      assert.deepEqual(warnings(nlbLb({ scheme: AwsNlbScheme.InternetFacing })), [
        'awsNlb.allowedCidrs: awsNlb.scheme is "internet-facing" but allowedCidrs is not set: only the VPC\'s own CIDR block may connect; list the client networks in allowedCidrs',
      ]);
      assert.deepEqual(
        warnings(nlbLb({ scheme: AwsNlbScheme.InternetFacing, allowedCidrs: ["203.0.113.0/24"] })),
        [],
      );
    });
    it("checks target security group ids given as text", () => {
      assert.deepEqual(errors(nlbLb({ targetSecurityGroupIds: ["sg-1", pulumi.output("sg-x")] })), [
        'awsNlb.targetSecurityGroupIds[0]: awsNlb.targetSecurityGroupIds[0] must be a security group id such as "sg-0123456789abcdef0", got "sg-1"',
      ]);
    });
    it("keeps health checks within AWS's ranges, the timeout below the interval", () => {
      assert.deepEqual(
        errors(
          nlbLb({
            healthCheck: {
              intervalSeconds: 4,
              timeoutSeconds: 1,
              healthyThreshold: 11,
              unhealthyThreshold: 1,
            },
          }),
        ),
        [
          "awsNlb.healthCheck.intervalSeconds: awsNlb.healthCheck.intervalSeconds must be a whole number 5-300 (AWS's range for NLB target groups), got 4",
          "awsNlb.healthCheck.timeoutSeconds: awsNlb.healthCheck.timeoutSeconds must be a whole number 2-120 (AWS's range for NLB target groups), got 1",
          "awsNlb.healthCheck.healthyThreshold: awsNlb.healthCheck.healthyThreshold must be a whole number 2-10 (AWS's range for NLB target groups), got 11",
          "awsNlb.healthCheck.unhealthyThreshold: awsNlb.healthCheck.unhealthyThreshold must be a whole number 2-10 (AWS's range for NLB target groups), got 1",
        ],
      );
      assert.deepEqual(errors(nlbLb({ healthCheck: { timeoutSeconds: 5 } })), [
        "awsNlb.healthCheck.timeoutSeconds: awsNlb.healthCheck.timeoutSeconds must be less than the interval (5 s), got 5",
      ]);
      assert.deepEqual(errors(nlbLb({ healthCheck: { intervalSeconds: 10, timeoutSeconds: 5 } })), []);
    });
  });
});
