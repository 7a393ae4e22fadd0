/**
 * The components compose as Pulumi components do: outputs as inputs, order through outputs (no
 * dependsOn), and values that resolve later checked with the same message as plain ones. The order is
 * read from the dependencies the SDK registers (lab/stack/recorder.ts), and seen in the times.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import * as hakube from "../../index";
import { validateEtcdClusterArgs } from "../../components/etcd/validate";
import { invalidArguments } from "../../components/errors";
import { hosts } from "./helpers/hosts";
import { CMD, Recorder, resolve, unwrap } from "./helpers/mocks";
import { hasOpenssl, opensslCa } from "./helpers/sh";

const SHA = "a".repeat(64);

/** A real CA (HaControlPlane computes the discovery hash from it; the mocked tls provider's PEM is none). */
function realCa(): hakube.CaKeyPairArgs {
  return { ...opensslCa("compose-ca"), keyAlgorithm: hakube.KeyAlgorithm.EcdsaP256 };
}

/** The README's bare-metal composition: no dependsOn anywhere. */
function program(masters: hakube.HostArgs[], etcdHosts: hakube.HostArgs[], ca: hakube.CaKeyPairArgs) {
  const etcd = new hakube.EtcdCluster("etcd", { members: etcdHosts, install: { sha256: SHA } });
  const vip = new hakube.KeepalivedVip("vip", {
    address: "10.0.0.10/24",
    interface: "eth0",
    members: masters,
    virtualRouterId: 51,
    port: 8443,
    healthCheck: { kind: "haproxy" },
  });
  const lb = new hakube.LoadBalancer("lb", {
    kind: "haproxy",
    port: 8443,
    haproxy: {
      hosts: masters,
      bindAddress: vip.address,
      backends: masters.map(({ name, address }) => ({ name, address })),
    },
  });
  const k8s = new hakube.HaControlPlane("k8s", {
    masters,
    endpoint: vip.endpoint,
    kubernetesVersion: "1.31.4",
    ca,
    etcd: {
      topology: "external",
      endpoints: etcd.clientEndpoints,
      caCertPem: etcd.caCertPem,
      clientCertPem: etcd.clientCertPem,
      clientKeyPem: etcd.clientKeyPem,
    },
  });
  return { etcd, vip, lb, k8s };
}

/** Hosts whose addresses are an EC2 instance's `privateIp` (an Output) and so is `connection.host`. */
function instanceHosts(prefix: string, n: number, first: number): hakube.HostArgs[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `${prefix}${i + 1}`;
    const vm = new ec2.Instance(name, {
      ami: "ami-0123456789abcdef0",
      instanceType: "t3.small",
      privateIp: `10.0.0.${first + i}`,
    });
    return { name, address: vm.privateIp, connection: { host: vm.privateIp, privateKey: "FAKE-KEY" } };
  });
}

describe("composing the components through outputs (mocks)", () => {
  let ca: hakube.CaKeyPairArgs;
  before(function () {
    if (!hasOpenssl()) this.skip();
    ca = realCa();
  });

  it("runs kubeadm init after the etcd health gate and the VIP check, with no dependsOn", async () => {
    const rec = new Recorder();
    await rec.install(5);
    const masters = hosts(3);
    const etcdHosts = hosts(6).slice(3);
    program(masters, etcdHosts, ca);
    await rec.idle();
    // From the registered dependencies: init waits for the health gate and the VIP's final check, which
    // waits for every member's probe.
    for (const gate of ["etcd-health", "vip-check", "vip-m1-probe", "vip-m3-probe"]) {
      assert.ok(rec.dependsOn("k8s-m1-init", gate), `k8s-m1-init does not depend on ${gate}`);
    }
    assert.ok(rec.dependsOn("vip-check", "vip-m2-configure"));
    // And in time: nothing of HaControlPlane's commands started before those finished.
    for (const gate of ["etcd-health", "vip-check"]) {
      assert.ok(rec.get("k8s-m1-init").registeredAt >= rec.get(gate).resolvedAt, `init before ${gate}`);
    }
    // The VIP's address is not gated: HAProxy is configured without waiting for the VIP's check.
    assert.ok(!rec.dependsOn("lb-m1-configure", "vip-check"));
    assert.ok(!rec.dependsOn("lb-m1-configure", "vip-m1-probe"));
  });

  it("a LoadBalancer's endpoint waits for every host's ready check", async () => {
    const rec = new Recorder();
    await rec.install();
    const masters = hosts(3);
    const lb = new hakube.LoadBalancer("lb", {
      kind: hakube.LoadBalancerKind.Haproxy,
      port: 8443,
      haproxy: { hosts: masters, backends: masters.map(({ name, address }) => ({ name, address })) },
    });
    new hakube.HaControlPlane("k8s", {
      masters: hosts(1),
      endpoint: lb.endpoint,
      kubernetesVersion: "1.31.4",
    });
    await rec.idle();
    for (const m of ["m1", "m2", "m3"]) assert.ok(rec.dependsOn("k8s-m1-init", `lb-${m}-ready`));
  });

  it("an EtcdCluster's outputs resolve only after its health gate", async () => {
    const rec = new Recorder();
    await rec.install();
    const etcd = new hakube.EtcdCluster("etcd", { members: hosts(3), install: { sha256: SHA } });
    const probe = new hakube.CertificateAuthority("after", { commonName: "x" });
    void probe;
    const consumer = etcd.clientEndpoints.apply((e) => e);
    assert.deepEqual(await resolve(consumer), [
      "https://10.0.0.11:2379",
      "https://10.0.0.12:2379",
      "https://10.0.0.13:2379",
    ]);
    await rec.idle();
    const resources = await (
      etcd.caCertPem as unknown as { resources(): Promise<Set<pulumi.Resource>> }
    ).resources();
    const names = await Promise.all([...resources].map((r) => resolve(r.urn)));
    assert.ok(
      names.some((u) => u.endsWith("::etcd-health")),
      `caCertPem carries ${names.join(", ")}`,
    );
    assert.ok(await pulumi.isSecret(etcd.clientKeyPem), "the client key stays secret");
  });

  it("accepts Outputs as addresses and connection hosts, and renders SANs and configs from their values", async () => {
    const rec = new Recorder();
    await rec.install();
    const masters = instanceHosts("m", 3, 11);
    const etcdHosts = instanceHosts("e", 3, 21);
    program(masters, etcdHosts, ca);
    await rec.idle();
    const csr = unwrap(rec.get("etcd-e2-server-csr").inputs) as Record<string, unknown>;
    assert.deepEqual(csr.ipAddresses, ["10.0.0.22", "127.0.0.1"]);
    const member = unwrap(rec.get("etcd-e1-member").inputs) as Record<string, unknown>;
    assert.match(member.stdin as string, /^e2 https:\/\/10\.0\.0\.22:2380 https:\/\/10\.0\.0\.22:2379$/m);
    const configure = unwrap(rec.get("vip-m1-configure").inputs) as Record<string, unknown>;
    assert.match(configure.create as string, /10\.0\.0\.12/);
    const connection = (unwrap(rec.get("lb-m2-install").inputs) as Record<string, unknown>)
      .connection as Record<string, unknown>;
    assert.equal(connection.host, "10.0.0.12");
    const haproxy = unwrap(rec.get("lb-m1-configure").inputs) as Record<string, unknown>;
    assert.match(haproxy.create as string, /server m3 10\.0\.0\.13:6443/);
    const init = unwrap(rec.get("k8s-m1-init").inputs) as Record<string, unknown>;
    const kubeadm = Buffer.from(
      (init.stdin as string)
        .split("\n")
        .find((l) => l.startsWith("/etc/kubernetes/hakube/kubeadm.yaml"))!
        .split(" ")[3],
      "base64",
    ).toString();
    assert.match(kubeadm, /controlPlaneEndpoint: "10\.0\.0\.10:8443"/);
    assert.match(kubeadm, /- "10\.0\.0\.13"/);
    assert.match(kubeadm, /- https:\/\/10\.0\.0\.23:2379\n/);
    for (const m of ["m1", "m2", "m3"]) assert.ok(rec.dependsOn(`k8s-${m}-prepare`, m), `prepare ${m}`);
  });

  it("checks an Output when it resolves, with the constructor's message, and runs no command", async () => {
    const rec = new Recorder();
    await rec.install();
    const bad = hosts(3);
    bad[1] = { ...bad[1], address: pulumi.output("10.0.0.300") as unknown as string };
    const etcd = new hakube.EtcdCluster("etcd", { members: bad, install: { sha256: SHA } });
    const failure = await (etcd.clientEndpoints as unknown as { promise(): Promise<unknown> }).promise().then(
      () => undefined,
      (e: Error) => e,
    );
    await rec.idle();
    const plain = hosts(3);
    plain[1] = { ...plain[1], address: "10.0.0.300" };
    const expected = invalidArguments(
      "EtcdCluster etcd",
      validateEtcdClusterArgs({ members: plain, install: { sha256: SHA } }).errors,
    ).message;
    assert.equal(
      expected,
      'EtcdCluster etcd has invalid arguments:\n  - members[1].address must be an IPv4 or IPv6 address, got "10.0.0.300"',
    );
    assert.equal(failure?.message, expected);
    assert.deepEqual(rec.byType(CMD), []);
    assert.throws(
      () => new hakube.EtcdCluster("etcd2", { members: plain, install: { sha256: SHA } }),
      (e: Error) => e.message === expected.replace("EtcdCluster etcd ", "EtcdCluster etcd2 "),
    );
  });

  it("checks an endpoint Output when it resolves, with the constructor's message, and runs no command", async () => {
    const rec = new Recorder();
    await rec.install();
    const args = { masters: hosts(3), kubernetesVersion: "1.35.0", ca };
    const cp = new hakube.HaControlPlane("k8s", { ...args, endpoint: pulumi.output("10.0.0.10") });
    const failure = await (cp.endpoint as unknown as { promise(): Promise<unknown> }).promise().then(
      () => undefined,
      (e: Error) => e,
    );
    await rec.idle();
    const expected =
      'HaControlPlane k8s has invalid arguments:\n  - endpoint must be "host:port" with a DNS name, an IPv4 address or an IPv6 address in brackets, and a port 1-65535, got "10.0.0.10"';
    assert.equal(failure?.message, expected);
    assert.deepEqual(rec.byType(CMD), []);
    assert.throws(
      () => new hakube.HaControlPlane("k8s2", { ...args, endpoint: "10.0.0.10" }),
      (e: Error) => e.message === expected.replace("HaControlPlane k8s ", "HaControlPlane k8s2 "),
    );
  });
});
