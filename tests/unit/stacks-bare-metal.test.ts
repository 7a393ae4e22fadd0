/**
 * The bare-metal stack's resource graph with the Recorder mocks: which components it wires for each API
 * endpoint kind and etcd topology, the order (endpoint -> init -> joins -> workers -> readiness gate),
 * the endpoint HaControlPlane is given, secrets, and its own checks. Nothing runs on hosts: the mocks
 * prove the graph and the inputs, not that keepalived, HAProxy or kubeadm accept them (the components'
 * own tests and the lab do that).
 *
 * The mocked @pulumi/tls returns fake PEM text; HaControlPlane computes the discovery hash from the
 * cluster CA's certificate, so every self-signed certificate here is one real CA made with openssl.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as hakube from "../../index";
import {
  ApiEndpointKind,
  bareMetalStack,
  BareMetalHostArgs,
  BareMetalStackArgs,
} from "../../stacks/bare-metal/program";
import {
  CMD,
  isSecretInput,
  Recorder,
  reportTopology,
  resolve,
  SELF,
  selfSignedAs,
  underMocks,
} from "./helpers/mocks";
import { assertRegisteredAfter, bundle, inputs, plainOccurrences } from "./helpers/recorded";
import { hasOpenssl, opensslCa } from "./helpers/sh";

const PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nFAKE-PRIVATE-KEY bare-metal\n-----END OPENSSH PRIVATE KEY-----\n";
const ETCD_SHA256 = "a".repeat(64);

let caPem: string;

function hostList(prefix: string, n: number, subnet: string, first: number): BareMetalHostArgs[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}${i + 1}`,
    address: `${subnet}.${first + i}`,
    hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${prefix}${i + 1}`,
  }));
}

function workerList(n: number): BareMetalHostArgs[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `w${i + 1}`,
    address: `10.0.${1 + Math.floor(i / 200)}.${21 + (i % 200)}`,
    hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIw${i + 1}`,
  }));
}

function baseArgs(over: Partial<BareMetalStackArgs> = {}): BareMetalStackArgs {
  return {
    masters: hostList("m", 3, "10.0.0", 11),
    workers: workerList(2),
    privateKey: PRIVATE_KEY,
    vip: { address: "10.0.0.10/24", interface: "eth0" },
    kubernetes: { kubernetesVersion: "1.31.4", cni: { kind: hakube.CniKind.Cilium, version: "1.16.5" } },
    ...over,
  };
}

const deploy = (over: Partial<BareMetalStackArgs> = {}, jitterMs = 0) =>
  underMocks(() => bareMetalStack(baseArgs(over)), { certPem: caPem, jitterMs });

describe("bare-metal stack (mocks)", () => {
  before(function () {
    if (!hasOpenssl()) this.skip();
    caPem = opensslCa("bm-ca").certPem;
  });

  it("by default puts HAProxy on the masters behind a VIP on 8443, and HaControlPlane at VIP:8443", async () => {
    const { rec, out } = await deploy();
    const names = rec.names(CMD);
    for (const m of ["m1", "m2", "m3"]) {
      for (const step of ["install", "configure"]) {
        assert.ok(names.includes(`api-lb-${m}-${step}`), `api-lb-${m}-${step}`);
        assert.ok(names.includes(`api-vip-${m}-${step}`), `api-vip-${m}-${step}`);
      }
    }
    assert.equal(names.filter((n) => n.startsWith("api-lb-")).length, 9); // install, configure, ready
    assert.equal(names.filter((n) => n.startsWith("api-vip-")).length, 10); // install, configure, probe; check
    assert.ok(!names.some((n) => n.startsWith("etcd-")), "no EtcdCluster with stacked etcd");
    // HAProxy binds the VIP on 8443 and checks the masters' API servers against the cluster CA.
    const lbConfigure = inputs(rec.get("api-lb-m2-configure"));
    assert.match(lbConfigure.create as string, /10\.0\.0\.10:8443/);
    assert.match(lbConfigure.create as string, /verify required ca-file/);
    assert.ok((lbConfigure.stdin as string).includes(Buffer.from(caPem).toString("base64")));
    // keepalived follows HAProxy: the check asks the local HAProxy, not the API server.
    assert.match(inputs(rec.get("api-vip-m1-configure")).create as string, /127\.0\.0\.1:8404\/healthz/);
    // HaControlPlane: the endpoint is VIP:8443, everywhere it is used.
    assert.equal(await resolve(out.endpoint), "10.0.0.10:8443");
    assert.match(await resolve(out.kubeconfig), /server: https:\/\/10\.0\.0\.10:8443\n/);
    const kubeadm = bundle(rec.get("k8s-m1-init")).get("/etc/kubernetes/hakube/kubeadm.yaml")!;
    assert.match(kubeadm, /controlPlaneEndpoint: "10\.0\.0\.10:8443"/);
    // The stack's cluster CA is HaControlPlane's CA: one CA, no second one made inside HaControlPlane.
    assert.deepEqual(rec.names(SELF), ["cluster-ca-cert", "k8s-etcd-ca-cert", "k8s-front-proxy-ca-cert"]);
    assert.equal(await resolve(out.clusterCaCertPem), caPem);
  });

  it("orders the endpoint -> init -> joins one at a time -> workers -> readiness gate", async () => {
    const { rec } = await deploy({ workers: workerList(3) }, 15);
    const endpoint = rec.byType(CMD).filter((r) => r.name.startsWith("api-"));
    assert.equal(endpoint.length, 19);
    for (const r of endpoint) assertRegisteredAfter(rec, "k8s-m1-init", r.name);
    // Every host step of HaControlPlane waits for the endpoint: through the endpoint output, no dependsOn.
    for (const r of endpoint) assertRegisteredAfter(rec, "k8s-m1-prepare", r.name);
    // The VIP's final check after every probe; HAProxy one master at a time, then its ready checks.
    assertRegisteredAfter(rec, "api-vip-check", "api-vip-m3-probe");
    assertRegisteredAfter(rec, "api-lb-m1-ready", "api-lb-m3-configure");
    assertRegisteredAfter(rec, "api-lb-m2-configure", "api-lb-m1-configure");
    assertRegisteredAfter(rec, "api-lb-m3-configure", "api-lb-m2-configure");
    assertRegisteredAfter(rec, "k8s-token", "k8s-m1-init");
    assertRegisteredAfter(rec, "k8s-m2-join", "k8s-token");
    assertRegisteredAfter(rec, "k8s-m3-join", "k8s-m2-join");
    for (const w of ["w1", "w2", "w3"]) {
      assertRegisteredAfter(rec, `k8s-${w}-join`, "k8s-m3-join");
      assertRegisteredAfter(rec, "k8s-ready", `k8s-${w}-join`);
    }
    assertRegisteredAfter(rec, "k8s-provider", "k8s-ready");
    assertRegisteredAfter(rec, "k8s-cni", "k8s-ready");
    // Workers join in parallel.
    const joins = ["w1", "w2", "w3"].map((w) => rec.get(`k8s-${w}-join`));
    assert.ok(
      Math.max(...joins.map((r) => r.registeredAt)) < Math.min(...joins.map((r) => r.resolvedAt)) + 15,
    );
  });

  it("apiEndpoint vip: keepalived on the masters following their API servers, no HAProxy, VIP:6443", async () => {
    const { rec, out } = await deploy({ apiEndpoint: ApiEndpointKind.Vip });
    const names = rec.names(CMD);
    assert.ok(!names.some((n) => n.startsWith("api-lb-")), "no HAProxy");
    assert.equal(names.filter((n) => n.startsWith("api-vip-")).length, 10);
    assert.match(
      inputs(rec.get("api-vip-m2-configure")).create as string,
      /https:\/\/10\.0\.0\.12:6443\/readyz/,
    );
    assert.equal(await resolve(out.endpoint), "10.0.0.10:6443");
    for (const r of rec.byType(CMD).filter((x) => x.name.startsWith("api-vip-")))
      assertRegisteredAfter(rec, "k8s-m1-init", r.name);
  });

  it("apiEndpoint lbHosts: HAProxy and the VIP on dedicated hosts, VIP:6443; one host: no VIP", async () => {
    const lbHosts = hostList("lb", 2, "10.0.0", 31);
    const { rec, out } = await deploy({ apiEndpoint: ApiEndpointKind.LbHosts, lbHosts });
    const names = rec.names(CMD).filter((n) => n.startsWith("api-"));
    assert.deepEqual(names, [
      "api-lb-lb1-configure",
      "api-lb-lb1-install",
      "api-lb-lb1-ready",
      "api-lb-lb2-configure",
      "api-lb-lb2-install",
      "api-lb-lb2-ready",
      "api-vip-check",
      "api-vip-lb1-configure",
      "api-vip-lb1-install",
      "api-vip-lb1-probe",
      "api-vip-lb2-configure",
      "api-vip-lb2-install",
      "api-vip-lb2-probe",
    ]);
    assert.equal(
      (inputs(rec.get("api-lb-lb2-install")).connection as Record<string, unknown>).host,
      "10.0.0.32",
    );
    assert.match(inputs(rec.get("api-lb-lb1-configure")).create as string, /10\.0\.0\.10:6443/);
    assert.equal(await resolve(out.endpoint), "10.0.0.10:6443");

    const single = await deploy({
      apiEndpoint: ApiEndpointKind.LbHosts,
      lbHosts: lbHosts.slice(0, 1),
      vip: {},
    });
    assert.deepEqual(
      single.rec.names(CMD).filter((n) => n.startsWith("api-")),
      ["api-lb-lb1-configure", "api-lb-lb1-install", "api-lb-lb1-ready"],
    );
    assert.equal(await resolve(single.out.endpoint), "10.0.0.31:6443");
  });

  it("external etcd: an EtcdCluster on the etcd hosts, HaControlPlane after its health gate, with its endpoints", async () => {
    const { rec, out } = await deploy(
      {
        etcdHosts: hostList("e", 3, "10.0.0", 21),
        etcd: {
          topology: hakube.EtcdTopology.External,
          version: "3.5.21",
          install: { method: hakube.InstallMethod.Release, sha256: ETCD_SHA256 },
        },
      },
      5,
    );
    for (const e of ["e1", "e2", "e3"]) {
      for (const step of ["install", "configure", "member"])
        assert.ok(rec.names(CMD).includes(`etcd-${e}-${step}`));
    }
    assertRegisteredAfter(rec, "k8s-m1-init", "etcd-health");
    assert.ok(!rec.names(SELF).includes("k8s-etcd-ca-cert"), "no stacked etcd CA");
    const kubeadm = bundle(rec.get("k8s-m1-init")).get("/etc/kubernetes/hakube/kubeadm.yaml")!;
    assert.match(
      kubeadm,
      /external:\n {4}endpoints:\n {4}- https:\/\/10\.0\.0\.21:2379\n {4}- https:\/\/10\.0\.0\.22:2379\n {4}- https:\/\/10\.0\.0\.23:2379\n/,
    );
    assert.deepEqual(await resolve(out.etcdEndpoints!), [
      "https://10.0.0.21:2379",
      "https://10.0.0.22:2379",
      "https://10.0.0.23:2379",
    ]);
  });

  it("keeps the kubeconfig, SSH key, bootstrap token, CA keys and encryption key secret", async () => {
    const { rec, out } = await deploy({
      etcdHosts: hostList("e", 3, "10.0.0", 21),
      etcd: {
        topology: hakube.EtcdTopology.External,
        install: { method: hakube.InstallMethod.Release, sha256: ETCD_SHA256 },
      },
    });
    assert.ok(await pulumi.isSecret(out.kubeconfig), "kubeconfig");
    assert.ok(!(await pulumi.isSecret(out.endpoint)));
    const encryptionKey = Buffer.alloc(32, "k8s-encryption-key").toString("base64");
    const secrets = ["FAKE-PRIVATE-KEY", "random-k8s-token-secret", encryptionKey];
    for (const r of rec.resources) {
      for (const s of secrets) {
        assert.deepEqual(plainOccurrences(r.inputs, s), [], `${r.name} carries ${s} outside a secret`);
      }
    }
    for (const r of rec.byType(CMD)) {
      assert.ok(isSecretInput(r.inputs.connection), `${r.name}: connection`);
      const conn = inputs(r).connection as Record<string, unknown>;
      assert.equal(conn.privateKey, PRIVATE_KEY, `${r.name}: the configured key`);
      assert.match(String(conn.hostKey), /^ssh-ed25519 /, `${r.name}: host key pinned`);
      assert.equal(conn.user, "root");
    }
    // What carries them is secret: the init's and joins' stdin, the token step's stdin.
    for (const name of ["k8s-m1-init", "k8s-m2-join", "k8s-w1-join", "k8s-token"]) {
      assert.ok(isSecretInput(rec.get(name).inputs.stdin), `${name}: stdin`);
    }
    assert.ok(
      bundle(rec.get("k8s-m1-init"))
        .get("/etc/kubernetes/hakube/apiserver/encryption-config.yaml")!
        .includes(encryptionKey),
    );
  });

  it("connects through the bastion when one is given", async () => {
    const bastion = {
      host: "203.0.113.5",
      user: "jump",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbastion",
      privateKey: PRIVATE_KEY,
    };
    const { rec } = await deploy({ bastion });
    for (const r of rec.byType(CMD)) {
      const proxy = (inputs(r).connection as Record<string, unknown>).proxy as Record<string, unknown>;
      // @pulumi/command fills in its defaults (port 22, dial limits); the given fields pass as they are.
      assert.deepEqual(
        { host: proxy.host, user: proxy.user, hostKey: proxy.hostKey, privateKey: proxy.privateKey },
        bastion,
        r.name,
      );
    }
  });

  it("refuses knobs that do not go together before creating anything, naming the config keys", async () => {
    const rec = new Recorder();
    await rec.install();
    const refused = (over: Partial<BareMetalStackArgs>, ...parts: string[]) =>
      assert.throws(
        () => bareMetalStack(baseArgs(over)),
        (e: Error) => {
          for (const p of parts)
            assert.ok(e.message.includes(p), `${JSON.stringify(e.message)} lacks ${JSON.stringify(p)}`);
          return e.message.startsWith("the bare-metal stack has invalid settings:\n");
        },
      );
    refused(
      { vip: {} },
      "hakube:vipAddress is required with hakube:apiEndpoint vipHaproxy",
      "hakube:vipInterface is required",
    );
    refused(
      { etcdHosts: hostList("e", 3, "10.0.0", 21) },
      "hakube:etcdHosts is only used with hakube:etcdTopology external",
    );
    refused(
      { etcd: { topology: hakube.EtcdTopology.External } },
      "hakube:etcdHosts must list the etcd hosts",
    );
    refused(
      { lbHosts: hostList("lb", 2, "10.0.0", 31) },
      "hakube:lbHosts is only used with hakube:apiEndpoint lbHosts",
    );
    refused(
      {
        masters: [
          { ...hostList("m", 3, "10.0.0", 11)[0], hostKey: "AAAA" },
          ...hostList("m", 3, "10.0.0", 11).slice(1),
        ],
      },
      'hakube:masters[0].hostKey must be the host\'s SSH public key as ssh-keyscan prints it ("ssh-ed25519 AAAA..."): every connection pins it, got "AAAA"',
    );
    await rec.idle();
    assert.equal(rec.resources.length, 0);
  });

  // HAKUBE_TOPOLOGY="masters,workers" changes the size (npm run bench -- topology runs it at several sizes).
  const [M, W] = (process.env.HAKUBE_TOPOLOGY ?? "7,100").split(",").map(Number);
  it(`evaluates a large topology (${M} masters, ${W} workers) fast`, async function () {
    this.timeout(120000);
    const rec = new Recorder(selfSignedAs(caPem));
    await rec.install();
    const f = await rec.measure(() =>
      bareMetalStack(baseArgs({ masters: hostList("m", M, "10.0.0", 11), workers: workerList(W) })),
    );
    reportTopology(`bare-metal topology ${M}+${W}`, rec, f);
    // HaControlPlane: prepare on every host, init, token, a join per other master and per worker, the
    // gate; HAProxy: install, configure and ready on every master; keepalived: install, configure and
    // probe on every master, and its check.
    assert.equal(rec.byType(CMD).length, M + W + 1 + 1 + (M - 1) + W + 1 + 3 * M + 3 * M + 1);
  });
});
