/**
 * No error or warning may print a value that can hold a secret. Every validator gets valid args in which,
 * one place at a time, a value is replaced by something that carries a private key: a whole host (as a
 * value, in a list, in a map), the key itself as a string. Whatever the validator says about it, the key's
 * text must not appear.
 */
import { strict as assert } from "node:assert";
import { validateEtcdClusterArgs } from "../../components/etcd/validate";
import { validateHaControlPlaneArgs } from "../../components/controlplane/validate";
import { validateKeepalivedVipArgs } from "../../components/keepalived/validate";
import { validateLoadBalancerArgs } from "../../components/loadbalancer/validate";
import { LoadBalancerKind } from "../../components/loadbalancer/types";
import { EtcdTopology } from "../../components/controlplane/types";
import { show } from "../../components/validation";
import { validateCertificateAuthorityArgs, validateCertificateRequest } from "../../components/pki/validate";
import { bareMetalProblems, ApiEndpointKind } from "../../stacks/bare-metal/validate";
import { awsPlanProblems } from "../../stacks/aws/validate";
import { hosts } from "./helpers/hosts";

const CANARY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE-LEAK-CANARY";
const KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\n${CANARY}\n-----END OPENSSH PRIVATE KEY-----\n`;
const host = { name: "x1", address: "10.0.0.99", connection: { host: "10.0.0.99", privateKey: KEY } };
/** What a careless caller may put anywhere. */
const POISON: unknown[] = [
  KEY,
  host,
  [host],
  { m1: host },
  host.connection,
  { proxy: host.connection },
  { nested: { deeper: [KEY] } },
  [KEY],
];

type Validator = (args: never) => { errors: { message: string }[]; warnings: { message: string }[] };

/** Every path into a plain value (objects and arrays), the root included. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  }
  return out;
}

function replaced(v: unknown, at: (string | number)[], value: unknown): unknown {
  if (at.length === 0) return value;
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, unknown>;
  copy[at[0]] = replaced(copy[at[0]], at.slice(1), value);
  return copy;
}

/** A validator of the stacks' config, which says problems as lines of text. */
function lines(check: (a: never) => string[]): Validator {
  return (a) => ({ errors: check(a).map((message) => ({ message })), warnings: [] });
}

/** Runs the validator on every poisoned variant; returns how many variants it refused. */
function checkNoLeak(validate: Validator, valid: object): number {
  let refused = 0;
  const places = paths(valid);
  for (const at of places) {
    for (const poison of POISON) {
      const args = replaced(valid, at, poison);
      let said: string[];
      try {
        const r = validate(args as never);
        said = [...r.errors, ...r.warnings].map((p) => p.message);
        if (r.errors.length > 0) refused++;
      } catch (e) {
        said = [String(e), (e as Error).stack ?? ""];
        refused++;
      }
      for (const m of said) {
        assert.ok(
          !m.includes(CANARY),
          `a message printed the key after ${JSON.stringify(at)} became ${typeof poison}: ${m.slice(0, 200)}`,
        );
      }
    }
  }
  return refused;
}

const three = hosts(3);

describe("no message prints a secret", () => {
  it("show() describes objects, long strings and key text without printing them", () => {
    assert.equal(show("10.0.0.1"), '"10.0.0.1"');
    assert.equal(show([]), "[]");
    assert.equal(show(["a", 1]), '["a", 1]');
    assert.equal(show(KEY), `a string of ${KEY.length} characters (not shown)`);
    assert.equal(show(host), 'an object with the keys "name", "address", "connection" (values not shown)');
    assert.equal(show([host]), "a list of 1 entries (not shown)");
    assert.equal(show({}), "an empty object");
  });
  it("EtcdCluster", () => {
    const n = checkNoLeak(validateEtcdClusterArgs as Validator, {
      members: three,
      install: { sha256: "a".repeat(64) },
    });
    assert.ok(n > 50, `only ${n} poisoned args were refused`);
  });
  it("KeepalivedVip", () => {
    const n = checkNoLeak(validateKeepalivedVipArgs as Validator, {
      address: "10.0.0.10/24",
      interface: "eth0",
      members: three,
      virtualRouterId: 51,
    });
    assert.ok(n > 50, `only ${n} poisoned args were refused`);
  });
  it("LoadBalancer (haproxy)", () => {
    const n = checkNoLeak(validateLoadBalancerArgs as Validator, {
      kind: LoadBalancerKind.Haproxy,
      port: 8443,
      haproxy: {
        hosts: three,
        bindAddress: "10.0.0.10",
        backends: three.map(({ name, address }) => ({ name, address })),
      },
    });
    assert.ok(n > 50, `only ${n} poisoned args were refused`);
  });
  it("HaControlPlane (external etcd)", () => {
    const n = checkNoLeak(validateHaControlPlaneArgs as Validator, {
      masters: three,
      workers: hosts(4).slice(3),
      endpoint: "10.0.0.10:6443",
      kubernetesVersion: "1.31.4",
      etcd: {
        topology: EtcdTopology.External,
        endpoints: ["https://10.0.0.21:2379"],
        caCertPem: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
        clientCertPem: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
        clientKeyPem: KEY,
      },
    });
    assert.ok(n > 50, `only ${n} poisoned args were refused`);
  });
  it("CertificateAuthority", () => {
    const n = checkNoLeak(validateCertificateAuthorityArgs as Validator, {
      commonName: "etcd-ca",
      organization: "hakube",
      keyAlgorithm: "ECDSA_P256",
      validityHours: 87600,
      earlyRenewalHours: 0,
    });
    assert.ok(n > 30, `only ${n} poisoned args were refused`);
  });
  it("issueCertificate (CA and request)", () => {
    const n = checkNoLeak(
      ((a: { ca: unknown; req: unknown }) => validateCertificateRequest(a.ca, a.req)) as Validator,
      {
        ca: {
          certPem: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
          privateKeyPem: KEY,
          keyAlgorithm: "RSA_2048",
        },
        req: {
          commonName: "m1",
          organization: "hakube",
          role: "server",
          altNames: ["10.0.0.11", "m1"],
          validityHours: 8760,
          earlyRenewalHours: 2160,
        },
      },
    );
    assert.ok(n > 40, `only ${n} poisoned args were refused`);
  });
  it("the stacks' config checks (bare metal, AWS)", () => {
    const bare = checkNoLeak(lines(bareMetalProblems as (a: never) => string[]), {
      apiEndpoint: ApiEndpointKind.VipHaproxy,
      lbHostCount: 0,
      etcdHostCount: 0,
      externalEtcd: false,
      vip: { address: "10.0.0.10/24", interface: "eth0" },
      hostKeys: [{ key: "hakube:masters[0]", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIm1" }],
    });
    assert.ok(bare > 20, `only ${bare} poisoned args were refused`);
    const aws = checkNoLeak(lines(awsPlanProblems as (a: never) => string[]), {
      zones: ["us-east-1a", "us-east-1b"],
      vpcCidr: "10.0.0.0/16",
      natGateways: "single",
      masterCount: 3,
      workerCount: 3,
      etcdCount: 3,
      externalEtcd: true,
      sshCidrs: ["10.1.0.0/16"],
      apiDnsName: "api.hakube.internal",
      apiAllowedCidrs: ["10.0.0.0/8"],
      hostKeys: { m1: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIm1" },
    });
    assert.ok(aws > 20, `only ${aws} poisoned args were refused`);
  });
});
