/**
 * HaControlPlane with the Recorder mocks: children, names, counts, order, inputs, secrets. The mocks run
 * nothing on hosts and no Kubernetes exists here: what these tests prove is the resource graph and what
 * each command receives, not that kubeadm accepts it (the lab phase runs that).
 *
 * The mocked @pulumi/tls returns fake PEM text, which is no certificate: the discovery hash needs a real
 * CA certificate, so most tests pass one in (`ca`, made with openssl once). The default-CA path is tested
 * with one master, where nothing joins and no hash is computed.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { HostArgs } from "../../components/hosts";
import { HaControlPlane } from "../../components/controlplane/haControlPlane";
import { discoveryTokenCaCertHash } from "../../components/controlplane/discovery";
import { CniKind, EtcdTopology, HaControlPlaneArgs } from "../../components/controlplane/types";
import { CaKeyPairArgs } from "../../components/pki/certificateAuthority";
import { KeyAlgorithm } from "../../components/pki/profiles";
import { hosts } from "./helpers/hosts";
import {
  CMD,
  CSR,
  isSecretInput,
  KEY,
  Recorder,
  reportTopology,
  resolve,
  SELF,
  SIGNED,
  underMocks,
} from "./helpers/mocks";
import { bundle, commandText, inputs } from "./helpers/recorded";
import { hasOpenssl, opensslCa } from "./helpers/sh";

function workers(n: number): HostArgs[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `w${i + 1}`,
    address: `10.0.${1 + Math.floor(i / 200)}.${21 + (i % 200)}`,
    connection: {
      host: `10.0.1.${21 + i}`,
      privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nFAKE-PRIVATE-KEY\n",
    },
  }));
}

/** A real CA certificate (the mocked tls provider's PEMs are not certificates), made in the suite's before(). */
let realCa: CaKeyPairArgs;
let caPem: string;

function baseArgs(over: Partial<HaControlPlaneArgs> = {}): HaControlPlaneArgs {
  return {
    masters: hosts(3),
    endpoint: "10.0.0.10:6443",
    kubernetesVersion: "1.31.4",
    workers: workers(2),
    ca: realCa,
    ...over,
  };
}

async function deploy(over: Partial<HaControlPlaneArgs> = {}, jitterMs = 0) {
  const { rec, out: cp } = await underMocks(() => new HaControlPlane("cp", baseArgs(over)), { jitterMs });
  return { rec, cp };
}

describe("HaControlPlane (mocks)", () => {
  before(function () {
    if (!hasOpenssl()) this.skip();
    caPem = opensslCa("cp-ca").certPem;
    realCa = {
      certPem: caPem,
      privateKeyPem: `-----BEGIN FAKE-PRIVATE-KEY-----\nreal-ca\n-----END FAKE-PRIVATE-KEY-----\n`,
      keyAlgorithm: KeyAlgorithm.EcdsaP256,
    };
  });

  it("makes the PKI in a ControlPlanePki child whose resources keep their URNs (alias to HaControlPlane)", async () => {
    const { rec } = await deploy({ masters: hosts(1), workers: [], ca: undefined });
    const pki = [
      "cp-ca",
      "cp-front-proxy-ca",
      "cp-etcd-ca",
      "cp-sa-key",
      "cp-admin-key",
      "cp-admin-csr",
      "cp-admin-cert",
      "cp-token-id",
      "cp-token-secret",
      "cp-encryption-key",
    ];
    for (const name of pki) {
      assert.match(
        rec.parents.get(name) ?? "",
        /hakube:index:HaControlPlane\$hakube:index:ControlPlanePki::cp-pki$/,
        name,
      );
      const aliases = (rec.aliases.get(name) ?? []).map((a) => a.getSpec()?.getParenturn());
      assert.deepEqual(aliases, [rec.parents.get("cp-pki")], `${name}: an alias to HaControlPlane cp`);
    }
    assert.match(rec.parents.get("cp-pki") ?? "", /::hakube:index:HaControlPlane::cp$/);
    // The CAs' own children follow their parent's alias (the engine derives theirs from it).
    assert.match(
      rec.parents.get("cp-front-proxy-ca-key") ?? "",
      /ControlPlanePki\$hakube:index:CertificateAuthority::cp-front-proxy-ca$/,
    );
    // The commands stay HaControlPlane's children, with no alias.
    assert.match(rec.parents.get("cp-m1-init") ?? "", /::hakube:index:HaControlPlane::cp$/);
    assert.deepEqual(rec.aliases.get("cp-m1-init"), []);
  });

  it("creates the expected children for 3 masters and 2 workers (stacked etcd)", async () => {
    const { rec } = await deploy();
    assert.deepEqual(rec.names(CMD), [
      "cp-m1-init",
      "cp-m1-prepare",
      "cp-m2-join",
      "cp-m2-prepare",
      "cp-m3-join",
      "cp-m3-prepare",
      "cp-ready",
      "cp-token",
      "cp-w1-join",
      "cp-w1-prepare",
      "cp-w2-join",
      "cp-w2-prepare",
    ]);
    // The CA is given: front-proxy CA and etcd CA (key + self-signed), the service-account key, the admin certificate.
    assert.deepEqual(rec.names(SELF), ["cp-etcd-ca-cert", "cp-front-proxy-ca-cert"]);
    assert.deepEqual(rec.names(KEY), [
      "cp-admin-key",
      "cp-etcd-ca-key",
      "cp-front-proxy-ca-key",
      "cp-sa-key",
    ]);
    assert.deepEqual(rec.names(CSR), ["cp-admin-csr"]);
    assert.deepEqual(rec.names(SIGNED), ["cp-admin-cert"]);
    assert.deepEqual(rec.names("random:index/randomString:RandomString"), ["cp-token-id"]);
    assert.deepEqual(rec.names("random:index/randomPassword:RandomPassword"), ["cp-token-secret"]);
    assert.deepEqual(rec.names("random:index/randomBytes:RandomBytes"), ["cp-encryption-key"]);
    assert.deepEqual(rec.names("pulumi:providers:kubernetes"), ["cp-provider"]);
    assert.equal(rec.resources.length, 12 + 2 + 4 + 1 + 1 + 3 + 1);
  });

  it("makes the bootstrap token [a-z0-9]{6}.[a-z0-9]{16} and a 32-byte encryption key with @pulumi/random", async () => {
    const { rec } = await deploy();
    const charset = { upper: false, special: false, lower: true, numeric: true };
    assert.deepEqual(inputs(rec.get("cp-token-id")), { length: 6, ...charset });
    assert.deepEqual(inputs(rec.get("cp-token-secret")), { length: 16, ...charset });
    assert.deepEqual(inputs(rec.get("cp-encryption-key")), { length: 32 });
  });

  it("makes its own cluster CA when none is given (one master: nothing joins)", async () => {
    const rec = new Recorder();
    await rec.install();
    const cp = new HaControlPlane("cp", { masters: hosts(1), kubernetesVersion: "1.31.4" });
    await rec.idle();
    assert.deepEqual(rec.names(SELF), ["cp-ca-cert", "cp-etcd-ca-cert", "cp-front-proxy-ca-cert"]);
    assert.deepEqual(rec.names(CMD), ["cp-m1-init", "cp-m1-prepare", "cp-ready", "cp-token"]);
    assert.equal(
      inputs(rec.get("cp-ca-cert")).subject &&
        (inputs(rec.get("cp-ca-cert")).subject as Record<string, unknown>).commonName,
      "kubernetes",
    );
    assert.equal(await resolve(cp.endpoint), "10.0.0.11:6443");
    assert.match(await resolve(cp.caCertPem), /cp-ca-cert/);
    assert.match(bundle(rec.get("cp-m1-init")).get("/etc/kubernetes/pki/ca.crt")!, /cp-ca-cert/);
  });

  it("orders init -> token -> joins one at a time -> workers -> readiness gate -> provider", async () => {
    const { rec } = await deploy(
      { masters: hosts(3), workers: workers(3), cni: { kind: CniKind.Cilium, version: "1.16.5" } },
      15,
    );
    const after = (later: string, earlier: string) =>
      assert.ok(
        rec.get(later).registeredAt >= rec.get(earlier).resolvedAt,
        `${later} was registered before ${earlier} was created`,
      );
    after("cp-m1-init", "cp-m1-prepare");
    after("cp-m1-init", "cp-front-proxy-ca-cert");
    after("cp-m1-init", "cp-sa-key");
    after("cp-m1-init", "cp-encryption-key");
    after("cp-token", "cp-m1-init");
    after("cp-m2-join", "cp-token");
    after("cp-m2-join", "cp-m2-prepare");
    after("cp-m3-join", "cp-m2-join");
    for (const w of ["w1", "w2", "w3"]) {
      after(`cp-${w}-join`, "cp-m3-join");
      after(`cp-${w}-join`, `cp-${w}-prepare`);
      after("cp-ready", `cp-${w}-join`);
    }
    after("cp-ready", "cp-m3-join");
    after("cp-provider", "cp-ready");
    after("cp-cni", "cp-ready");
    after("cp-cni", "cp-provider");
    // Workers join in parallel, and every host prepares in parallel.
    const joins = ["w1", "w2", "w3"].map((w) => rec.get(`cp-${w}-join`));
    assert.ok(
      Math.max(...joins.map((r) => r.registeredAt)) < Math.min(...joins.map((r) => r.resolvedAt)) + 15,
    );
    const prepares = rec.byType(CMD).filter((r) => r.name.endsWith("-prepare"));
    assert.equal(prepares.length, 6);
    assert.ok(
      Math.max(...prepares.map((r) => r.registeredAt)) < Math.min(...prepares.map((r) => r.resolvedAt)) + 15,
    );
  });

  it("gives every master the same CAs, keys and encryption configuration, and its own kubeadm configuration", async () => {
    const { rec } = await deploy();
    const files = ["m1-init", "m2-join", "m3-join"].map((s) => bundle(rec.get(`cp-${s}`)));
    assert.deepEqual(
      [...files[0].keys()],
      [
        "/etc/kubernetes/pki/ca.crt",
        "/etc/kubernetes/pki/ca.key",
        "/etc/kubernetes/pki/front-proxy-ca.crt",
        "/etc/kubernetes/pki/front-proxy-ca.key",
        "/etc/kubernetes/pki/sa.key",
        "/etc/kubernetes/pki/sa.pub",
        "/etc/kubernetes/pki/etcd/ca.crt",
        "/etc/kubernetes/pki/etcd/ca.key",
        "/etc/kubernetes/hakube/apiserver/audit-policy.yaml",
        "/etc/kubernetes/hakube/apiserver/encryption-config.yaml",
        "/etc/kubernetes/hakube/kubeadm.yaml",
      ],
    );
    for (const path of files[0].keys()) {
      if (path.endsWith("kubeadm.yaml")) continue;
      assert.equal(files[1].get(path), files[0].get(path), path);
      assert.equal(files[2].get(path), files[0].get(path), path);
    }
    assert.equal(files[0].get("/etc/kubernetes/pki/ca.crt"), caPem);
    assert.match(files[0].get("/etc/kubernetes/pki/sa.pub")!, /PUBLIC cp-sa-key/);
    assert.match(files[0].get("/etc/kubernetes/pki/etcd/ca.key")!, /cp-etcd-ca-key/);
    assert.match(
      files[0].get("/etc/kubernetes/hakube/apiserver/encryption-config.yaml")!,
      /secretbox:\n {6}keys:\n {6}- name: key1\n {8}secret: /,
    );
    const init = files[0].get("/etc/kubernetes/hakube/kubeadm.yaml")!;
    assert.match(
      init,
      /kind: InitConfiguration\nbootstrapTokens:\n- token: random-cp-token-id\.random-cp-token-secret\n/,
    );
    assert.match(init, /controlPlaneEndpoint: "10.0.0.10:6443"/);
    const join = files[1].get("/etc/kubernetes/hakube/kubeadm.yaml")!;
    assert.match(join, /kind: JoinConfiguration/);
    assert.ok(
      join.includes(`    - ${discoveryTokenCaCertHash(caPem)}\n`),
      "the discovery hash of the given CA",
    );
    assert.match(join, /controlPlane:\n {2}localAPIEndpoint:\n {4}advertiseAddress: "10.0.0.12"/);
    const sa = inputs(rec.get("cp-sa-key"));
    assert.deepEqual(sa, { algorithm: "RSA", rsaBits: 2048 });
  });

  it("gives a worker only its join configuration", async () => {
    const { rec } = await deploy();
    const files = bundle(rec.get("cp-w2-join"));
    assert.deepEqual([...files.keys()], ["/etc/kubernetes/hakube/kubeadm.yaml"]);
    assert.match(files.get("/etc/kubernetes/hakube/kubeadm.yaml")!, /name: w2\n/);
    assert.doesNotMatch(files.get("/etc/kubernetes/hakube/kubeadm.yaml")!, /controlPlane/);
  });

  it("external etcd: no etcd CA, the etcd client certificate on every master, endpoints from an Output", async () => {
    const { rec } = await deploy({
      etcd: {
        topology: EtcdTopology.External,
        endpoints: pulumi.output(["https://10.0.0.21:2379", "https://10.0.0.22:2379"]),
        caCertPem: "ETCD CA PEM",
        clientCertPem: pulumi.output("ETCD CLIENT CERT"),
        clientKeyPem: pulumi.secret("ETCD CLIENT KEY"),
      },
    });
    assert.deepEqual(rec.names(SELF), ["cp-front-proxy-ca-cert"]);
    const files = bundle(rec.get("cp-m2-join"));
    assert.equal(files.get("/etc/kubernetes/pki/etcd/ca.crt"), "ETCD CA PEM");
    assert.equal(files.get("/etc/kubernetes/pki/apiserver-etcd-client.crt"), "ETCD CLIENT CERT");
    assert.equal(files.get("/etc/kubernetes/pki/apiserver-etcd-client.key"), "ETCD CLIENT KEY");
    assert.ok(!files.has("/etc/kubernetes/pki/etcd/ca.key"));
    assert.match(
      bundle(rec.get("cp-m1-init")).get("/etc/kubernetes/hakube/kubeadm.yaml")!,
      /external:\n {4}endpoints:\n {4}- https:\/\/10.0.0.21:2379\n {4}- https:\/\/10.0.0.22:2379\n/,
    );
  });

  it("colocated external etcd: every API server uses its local member", async () => {
    const { rec } = await deploy({
      etcd: {
        topology: EtcdTopology.External,
        endpoints: pulumi.output([
          "https://10.0.0.11:2379",
          "https://10.0.0.12:2379",
          "https://10.0.0.13:2379",
        ]),
        caCertPem: "ETCD CA PEM",
        clientCertPem: "ETCD CLIENT CERT",
        clientKeyPem: pulumi.secret("ETCD CLIENT KEY"),
        colocated: true,
      },
    });
    assert.match(
      bundle(rec.get("cp-m1-init")).get("/etc/kubernetes/hakube/kubeadm.yaml")!,
      /external:\n {4}endpoints:\n {4}- https:\/\/127.0.0.1:2379\n {4}caFile/,
    );
  });

  it("without audit and encryption: no key, no API server files", async () => {
    const { rec } = await deploy({
      apiServer: { audit: { enabled: false }, secretsEncryption: { enabled: false } },
    });
    assert.deepEqual(rec.names("random:index/randomBytes:RandomBytes"), []);
    assert.ok(![...bundle(rec.get("cp-m1-init")).keys()].some((p) => p.includes("/apiserver/")));
  });

  it("keeps the kubeconfig, token, keys and encryption key secret, and out of every command line", async () => {
    const { rec, cp } = await deploy({ cni: { kind: CniKind.Calico, version: "v3.29.1" } });
    assert.ok(await pulumi.isSecret(cp.kubeconfig), "kubeconfig");
    assert.ok(!(await pulumi.isSecret(cp.caCertPem)));
    for (const r of rec.byType(CMD)) {
      assert.ok(isSecretInput(r.inputs.connection), `${r.name}: connection`);
      if (!r.name.endsWith("-prepare") && r.name !== "cp-ready") {
        assert.ok(isSecretInput(r.inputs.stdin), `${r.name}: stdin must be secret`);
        assert.equal(inputs(r).logging, "stderr", `${r.name}: stdout stays out of the log`);
      }
    }
    for (const r of rec.byType(SIGNED))
      assert.ok(isSecretInput(r.inputs.caPrivateKeyPem), `${r.name}: CA key`);
    assert.ok(isSecretInput(rec.get("cp-provider").inputs.kubeconfig), "the provider's kubeconfig");
    const encryptionKey = Buffer.alloc(32, "cp-encryption-key").toString("base64");
    const secrets = [
      "random-cp-token-secret",
      encryptionKey,
      "FAKE-PRIVATE-KEY",
      "PRIVATE KEY",
      "ETCD CLIENT KEY",
    ];
    for (const r of rec.byType(CMD)) {
      for (const secret of secrets)
        assert.ok(!commandText(r).includes(secret), `${r.name} carries a secret in its command`);
      assert.equal(inputs(r).environment, undefined, `${r.name}: no environment`);
      assert.ok(!JSON.stringify(inputs(r).triggers ?? []).includes("random-cp-token"), `${r.name}: triggers`);
    }
    assert.ok(
      (inputs(rec.get("cp-token")).stdin as string).includes(
        `token-secret: ${Buffer.from("random-cp-token-secret").toString("base64")}`,
      ),
    );
    assert.ok(
      (
        bundle(rec.get("cp-m1-init")).get("/etc/kubernetes/hakube/apiserver/encryption-config.yaml") ?? ""
      ).includes(encryptionKey),
    );
  });

  it("builds the kubeconfig from an admin certificate of the cluster CA, server https://endpoint", async () => {
    const { rec, cp } = await deploy();
    const kc = await resolve(cp.kubeconfig);
    assert.match(kc, /server: https:\/\/10.0.0.10:6443\n/);
    assert.ok(kc.includes(`certificate-authority-data: ${Buffer.from(caPem).toString("base64")}\n`));
    assert.ok(
      kc.includes(
        `client-key-data: ${Buffer.from("-----BEGIN FAKE-PRIVATE-KEY-----\ncp-admin-key\n-----END FAKE-PRIVATE-KEY-----\n").toString("base64")}`,
      ),
    );
    assert.match(kc, /current-context: kubernetes-admin@kubernetes/);
    const csr = inputs(rec.get("cp-admin-csr"));
    assert.deepEqual(csr.subject, { commonName: "kubernetes-admin", organization: "kubeadm:cluster-admins" });
    assert.deepEqual(inputs(rec.get("cp-admin-cert")).allowedUses, [
      "digital_signature",
      "key_encipherment",
      "client_auth",
    ]);
    assert.match(String(inputs(rec.get("cp-admin-cert")).caCertPem), /BEGIN CERTIFICATE/);
    assert.equal(await resolve(cp.endpoint), "10.0.0.10:6443");
    assert.equal(await resolve(cp.caCertPem), caPem);
  });

  it("renews the token on the first master whenever nodes are added", async () => {
    const { rec } = await deploy();
    const token = inputs(rec.get("cp-token"));
    assert.deepEqual(token.triggers, ["m1,m2,m3,w1,w2"]);
    assert.equal((token.connection as Record<string, unknown>).host, "10.0.0.11");
    const gate = inputs(rec.get("cp-ready"));
    assert.equal((gate.connection as Record<string, unknown>).host, "10.0.0.11");
    assert.equal((gate.triggers as unknown[]).length, 5, "three masters and two workers");
  });

  it("installs the CNI chart through the cluster's provider, with hakube's values under the user's", async () => {
    const { rec } = await deploy({
      cni: {
        kind: CniKind.Cilium,
        version: "1.16.5",
        values: { hubble: { enabled: true }, ipam: { mode: "cluster-pool" } },
      },
    });
    const cni = inputs(rec.get("cp-cni"));
    assert.equal(cni.chart, "cilium");
    assert.equal(cni.version, "1.16.5");
    assert.equal(cni.namespace, "kube-system");
    assert.equal(cni.createNamespace, false);
    assert.deepEqual(cni.repositoryOpts, { repo: "https://helm.cilium.io/" });
    assert.deepEqual(cni.values, {
      ipam: { mode: "cluster-pool" },
      ipv4: { enabled: true },
      ipv6: { enabled: false },
      k8sServiceHost: "10.0.0.10",
      k8sServicePort: 6443,
      hubble: { enabled: true },
    });
  });

  it("refuses bad args before creating anything, naming argument and value", async () => {
    const rec = new Recorder();
    await rec.install();
    assert.throws(
      () => new HaControlPlane("cp", baseArgs({ endpoint: undefined, podSubnet: "10.96.0.0/16" })),
      (e: Error) =>
        pulumi.InputPropertiesError.isInstance(e) &&
        e.message.includes("HaControlPlane cp has invalid arguments:") &&
        e.message.includes("endpoint is required with more than one master") &&
        e.message.includes('podSubnet "10.96.0.0/16" overlaps serviceSubnet "10.96.0.0/12"'),
    );
    await rec.idle();
    assert.equal(rec.resources.length, 0);
  });

  it("evaluates a large topology (7 masters, 100 workers) fast", async function () {
    this.timeout(120000);
    const rec = new Recorder();
    await rec.install();
    const f = await rec.measure(
      () => new HaControlPlane("cp", baseArgs({ masters: hosts(7), workers: workers(100) })),
    );
    reportTopology("large topology", rec, f);
    // prepare on 107 hosts, init, token, 6 master joins, 100 worker joins, the gate
    assert.equal(rec.byType(CMD).length, 107 + 1 + 1 + 6 + 100 + 1);
  });
});
