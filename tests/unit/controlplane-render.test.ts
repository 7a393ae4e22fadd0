/**
 * HaControlPlane renderers: kubeadm v1beta4 configuration, files, scripts. No Kubernetes binaries exist in
 * this workplace, so what kubeadm, kubelet and kube-apiserver make of these files is not proven here (that
 * is the lab phase's job); these tests pin the files exactly (goldens), check each option's effect, parse
 * every script with `sh -n`, and run the scripts' file handling for real in a temporary directory.
 */
import { InstallMethod } from "../../components/install";
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { KnownHost } from "../../components/hosts";
import { discoveryTokenCaCertHash } from "../../components/controlplane/discovery";
import { KUBEADM_CONFIG_FILE } from "../../components/controlplane/defaults";
import { cniChartValues } from "../../components/controlplane/render/cni";
import {
  apiServerRestartFiles,
  buildBootstrapTokenSecret,
  buildEncryptionConfiguration,
  masterFiles,
  protectedFiles,
  renderBootstrapTokenSecret,
  renderDefaultAuditPolicy,
  renderEncryptionConfiguration,
  renderKubeconfig,
  splitBootstrapToken,
  workerFiles,
} from "../../components/controlplane/render/files";
import {
  apiServerExtraArgs,
  buildClusterConfigurationV1beta4,
  buildInitConfigurationV1beta4,
  buildJoinConfigurationV1beta4,
  goDuration,
  renderInitConfigV1beta4,
  renderJoinConfigV1beta4,
} from "../../components/controlplane/render/kubeadm.v1beta4";
import {
  renderAptSource,
  renderPrepareScript,
  renderSysctlFile,
  renderYumRepo,
} from "../../components/controlplane/render/prepare";
import {
  renderInitScript,
  renderJoinScript,
  renderReadyScript,
  renderTokenScript,
  shStageAndPutBundle,
} from "../../components/controlplane/render/scripts";
import { toYaml, yamlScalar } from "../../components/controlplane/render/yaml";
import { resolveHaControlPlane } from "../../components/controlplane/settings";
import {
  CniKind,
  ControlPlaneSettings,
  EtcdTopology,
  SecretsEncryptionProvider,
  KnownHaControlPlaneArgs,
} from "../../components/controlplane/types";
import { KeyAlgorithm } from "../../components/pki/profiles";
import { renderFileBundle, shAssignments, shFunctions } from "../../components/shell";
import { EXTERNAL, HASH, OIDC_AND_EXTRAS, TOKEN } from "./helpers/controlplane";
import { assertGolden } from "./helpers/golden";
import { hosts } from "./helpers/hosts";
import { runSh, shSyntaxError, tempDir } from "./helpers/sh";

/** n workers w1..wn at 10.0.1.21.. */
function workers(n: number): KnownHost[] {
  return hosts(n).map((h, i) => ({
    ...h,
    name: `w${i + 1}`,
    address: `10.0.1.${21 + i}`,
    connection: { ...h.connection, host: `10.0.1.${21 + i}` },
  }));
}

const BASE: KnownHaControlPlaneArgs = {
  masters: hosts(3),
  endpoint: "10.0.0.10:6443",
  kubernetesVersion: "1.31.4",
};
function settings(over: Partial<KnownHaControlPlaneArgs> = {}): ControlPlaneSettings {
  return resolveHaControlPlane("cp", { ...BASE, ...over });
}
const KEY32 = Buffer.alloc(32, "k").toString("base64");

const s = settings();
const m1 = s.masters[0];
const m2 = s.masters[1];

/** One document of the init configuration by kind. */
function initDoc(st: ControlPlaneSettings, kind: "InitConfiguration" | "ClusterConfiguration"): Any {
  return kind === "InitConfiguration"
    ? buildInitConfigurationV1beta4(st, st.masters[0], TOKEN)
    : buildClusterConfigurationV1beta4(
        st,
        st.etcdTopology === EtcdTopology.External ? EXTERNAL.endpoints : undefined,
      );
}
// The build* functions return YAML-ready objects; these tests read them as plain data.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

describe("HaControlPlane renderers", () => {
  describe("kubeadm v1beta4 configuration (golden)", () => {
    it("stacked etcd, with the defaults (audit and encryption on)", () => {
      assertGolden("controlplane/kubeadm-init-stacked.yaml", renderInitConfigV1beta4(s, m1, TOKEN));
    });
    it("external etcd", () => {
      const st = settings({ etcd: EXTERNAL });
      assertGolden(
        "controlplane/kubeadm-init-external.yaml",
        renderInitConfigV1beta4(st, m1, TOKEN, EXTERNAL.endpoints),
      );
    });
    it("OIDC, extra SANs, extra API server flags and ignored preflight checks", () => {
      const st = settings(OIDC_AND_EXTRAS);
      assertGolden("controlplane/kubeadm-init-oidc.yaml", renderInitConfigV1beta4(st, st.masters[0], TOKEN));
    });
    it("audit log off", () => {
      const st = settings({ apiServer: { audit: { enabled: false } } });
      assertGolden("controlplane/kubeadm-init-audit-off.yaml", renderInitConfigV1beta4(st, m1, TOKEN));
    });
    it("encryption of Secrets off", () => {
      const st = settings({ apiServer: { secretsEncryption: { enabled: false } } });
      assertGolden("controlplane/kubeadm-init-encryption-off.yaml", renderInitConfigV1beta4(st, m1, TOKEN));
    });
    it("a joining master", () => {
      assertGolden(
        "controlplane/kubeadm-join-m2.yaml",
        renderJoinConfigV1beta4(s, m2, { token: TOKEN, caCertHash: HASH }, true),
      );
    });
    it("a joining worker", () => {
      const st = settings({ workers: workers(2) });
      assertGolden(
        "controlplane/kubeadm-join-w1.yaml",
        renderJoinConfigV1beta4(st, st.workers[0], { token: TOKEN, caCertHash: HASH }, false),
      );
    });
  });

  describe("kubeadm v1beta4 configuration, one option at a time", () => {
    it("uses kubeadm's v1beta4 API for every kubeadm document", () => {
      for (const doc of [initDoc(s, "InitConfiguration"), initDoc(s, "ClusterConfiguration")]) {
        assert.equal(doc.apiVersion, "kubeadm.k8s.io/v1beta4");
      }
      assert.equal(
        buildJoinConfigurationV1beta4(s, m2, { token: TOKEN, caCertHash: HASH }, true).apiVersion,
        "kubeadm.k8s.io/v1beta4",
      );
      const docs = renderInitConfigV1beta4(s, m1, TOKEN)
        .split("---\n")
        .map((d) => /^kind: (\w+)$/m.exec(d)?.[1]);
      assert.deepEqual(docs, ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"]);
    });
    it("sets controlPlaneEndpoint to the endpoint, IPv6 in brackets", () => {
      assert.equal(initDoc(s, "ClusterConfiguration").controlPlaneEndpoint, "10.0.0.10:6443");
      const v6 = resolveHaControlPlane("cp", {
        masters: [{ ...hosts(1)[0], address: "fd00::11" }],
        endpoint: "[fd00::10]:6443",
        kubernetesVersion: "1.31.4",
        podSubnet: "fd00:10:244::/56",
        serviceSubnet: "fd00:10:96::/112",
      });
      assert.equal(buildClusterConfigurationV1beta4(v6).controlPlaneEndpoint, "[fd00::10]:6443");
      assert.equal((buildClusterConfigurationV1beta4(v6).apiServer as Any).certSANs[0], "fd00::10");
    });
    it("defaults the endpoint to the only master's address and bind port", () => {
      const one = resolveHaControlPlane("cp", {
        masters: hosts(1),
        kubernetesVersion: "1.31.4",
        apiServer: { bindPort: 7443 },
      });
      assert.equal(one.endpoint.hostPort, "10.0.0.11:7443");
    });
    it("puts the endpoint host, every master's address and name and the extra SANs in certSANs, once each", () => {
      const st = settings({
        endpoint: "api.example.com:6443",
        apiServer: { extraSans: ["10.0.0.11", "lb.example.com"] },
      });
      assert.deepEqual((initDoc(st, "ClusterConfiguration").apiServer as Any).certSANs, [
        "api.example.com",
        "10.0.0.11",
        "m1",
        "10.0.0.12",
        "m2",
        "10.0.0.13",
        "m3",
        "lb.example.com",
      ]);
    });
    it("stacked etcd is kubeadm's local etcd", () => {
      assert.deepEqual(initDoc(s, "ClusterConfiguration").etcd, { local: { dataDir: "/var/lib/etcd" } });
    });
    it("external etcd lists the endpoints and the files hakube puts in place", () => {
      assert.deepEqual(initDoc(settings({ etcd: EXTERNAL }), "ClusterConfiguration").etcd, {
        external: {
          endpoints: EXTERNAL.endpoints,
          caFile: "/etc/kubernetes/pki/etcd/ca.crt",
          certFile: "/etc/kubernetes/pki/apiserver-etcd-client.crt",
          keyFile: "/etc/kubernetes/pki/apiserver-etcd-client.key",
        },
      });
      assert.throws(
        () => buildClusterConfigurationV1beta4(settings({ etcd: EXTERNAL })),
        /external etcd needs its endpoints/,
      );
    });
    it("turns leader election on for the controller manager and the scheduler", () => {
      const c = initDoc(s, "ClusterConfiguration") as Any;
      assert.deepEqual(c.controllerManager.extraArgs, [{ name: "leader-elect", value: "true" }]);
      assert.deepEqual(c.scheduler.extraArgs, [{ name: "leader-elect", value: "true" }]);
    });
    it("writes the version with a v, the subnets, and the key algorithm as kubeadm names it", () => {
      const c = initDoc(
        settings({ kubernetesVersion: "v1.34.1", keyAlgorithm: KeyAlgorithm.Rsa3072 }),
        "ClusterConfiguration",
      );
      assert.equal(c.kubernetesVersion, "v1.34.1");
      assert.equal(c.encryptionAlgorithm, "RSA-3072");
      assert.deepEqual(c.networking, {
        dnsDomain: "cluster.local",
        serviceSubnet: "10.96.0.0/12",
        podSubnet: "10.244.0.0/16",
      });
      assert.equal(initDoc(s, "ClusterConfiguration").encryptionAlgorithm, "ECDSA-P256");
    });
    it("registers each node by name on its own address with containerd", () => {
      const reg = initDoc(s, "InitConfiguration").nodeRegistration as Any;
      assert.deepEqual(reg, {
        name: "m1",
        criSocket: "unix:///var/run/containerd/containerd.sock",
        kubeletExtraArgs: [{ name: "node-ip", value: "10.0.0.11" }],
        ignorePreflightErrors: undefined,
      });
      assert.deepEqual(initDoc(s, "InitConfiguration").localAPIEndpoint, {
        advertiseAddress: "10.0.0.11",
        bindPort: 6443,
      });
    });
    it("creates the bootstrap token at init, for 24 hours, for kubeadm's join group", () => {
      assert.deepEqual(initDoc(s, "InitConfiguration").bootstrapTokens, [
        {
          token: TOKEN,
          description: "hakube HaControlPlane cp join token",
          ttl: "24h0m0s",
          usages: ["signing", "authentication"],
          groups: ["system:bootstrappers:kubeadm:default-node-token"],
        },
      ]);
    });
    it("joins through the endpoint with the token and the CA hash; only masters get a controlPlane block", () => {
      const master = buildJoinConfigurationV1beta4(s, m2, { token: TOKEN, caCertHash: HASH }, true) as Any;
      assert.deepEqual(master.discovery, {
        bootstrapToken: { apiServerEndpoint: "10.0.0.10:6443", token: TOKEN, caCertHashes: [HASH] },
      });
      assert.deepEqual(master.controlPlane, {
        localAPIEndpoint: { advertiseAddress: "10.0.0.12", bindPort: 6443 },
      });
      const worker = buildJoinConfigurationV1beta4(
        s,
        { name: "w1", address: "10.0.1.21" },
        { token: TOKEN, caCertHash: HASH },
        false,
      );
      assert.equal(worker.controlPlane, undefined);
      assert.doesNotMatch(
        renderJoinConfigV1beta4(
          s,
          { name: "w1", address: "10.0.1.21" },
          { token: TOKEN, caCertHash: HASH },
          false,
        ),
        /controlPlane/,
      );
    });
    it("audit: the policy file, the log with rotation, and their mounts", () => {
      const c = initDoc(
        settings({ apiServer: { audit: { maxAgeDays: 7, maxBackups: 3, maxSizeMb: 50 } } }),
        "ClusterConfiguration",
      ) as Any;
      assert.deepEqual(c.apiServer.extraArgs.slice(0, 5), [
        { name: "audit-policy-file", value: "/etc/kubernetes/hakube/apiserver/audit-policy.yaml" },
        { name: "audit-log-path", value: "/var/log/kubernetes/audit/audit.log" },
        { name: "audit-log-maxage", value: "7" },
        { name: "audit-log-maxbackup", value: "3" },
        { name: "audit-log-maxsize", value: "50" },
      ]);
      assert.deepEqual(
        c.apiServer.extraVolumes.map((v: Any) => [v.name, v.readOnly]),
        [
          ["hakube-apiserver-config", true],
          ["hakube-audit-log", false],
        ],
      );
      const off = initDoc(
        settings({ apiServer: { audit: { enabled: false } } }),
        "ClusterConfiguration",
      ) as Any;
      assert.ok(!off.apiServer.extraArgs.some((a: Any) => a.name.startsWith("audit-")));
      assert.ok(!off.apiServer.extraVolumes.some((v: Any) => v.name === "hakube-audit-log"));
    });
    it("encryption: the provider configuration flag and the read-only mount", () => {
      const c = initDoc(s, "ClusterConfiguration") as Any;
      assert.ok(
        c.apiServer.extraArgs.some(
          (a: Any) =>
            a.name === "encryption-provider-config" &&
            a.value === "/etc/kubernetes/hakube/apiserver/encryption-config.yaml",
        ),
      );
      const off = settings({
        apiServer: { secretsEncryption: { enabled: false }, audit: { enabled: false } },
      });
      const c2 = initDoc(off, "ClusterConfiguration") as Any;
      assert.deepEqual(c2.apiServer.extraArgs, []);
      assert.equal(c2.apiServer.extraVolumes, undefined, "nothing to mount");
      assert.doesNotMatch(renderInitConfigV1beta4(off, m1, TOKEN), /extraVolumes|encryption-provider/);
    });
    it("OIDC: issuer and client always, claims and prefixes when given", () => {
      const st = settings({
        apiServer: {
          oidc: { issuerUrl: "https://login.example.com", clientId: "k8s" },
          audit: { enabled: false },
          secretsEncryption: { enabled: false },
        },
      });
      assert.deepEqual(apiServerExtraArgs(st), [
        { name: "oidc-issuer-url", value: "https://login.example.com" },
        { name: "oidc-client-id", value: "k8s" },
      ]);
      const full = settings({
        apiServer: {
          oidc: {
            issuerUrl: "https://i.example",
            clientId: "k",
            usernameClaim: "email",
            usernamePrefix: "-",
            groupsClaim: "groups",
            groupsPrefix: "oidc:",
          },
          audit: { enabled: false },
          secretsEncryption: { enabled: false },
        },
      });
      assert.deepEqual(
        apiServerExtraArgs(full).map((a) => a.name),
        [
          "oidc-issuer-url",
          "oidc-client-id",
          "oidc-username-claim",
          "oidc-username-prefix",
          "oidc-groups-claim",
          "oidc-groups-prefix",
        ],
      );
    });
    it("appends apiServer.extraArgs after hakube's flags, sorted", () => {
      const st = settings({
        apiServer: {
          extraArgs: { "z-flag": "1", "a-flag": "yes" },
          audit: { enabled: false },
          secretsEncryption: { enabled: false },
        },
      });
      assert.deepEqual(apiServerExtraArgs(st), [
        { name: "a-flag", value: "yes" },
        { name: "z-flag", value: "1" },
      ]);
      assert.match(
        renderInitConfigV1beta4(st, m1, TOKEN),
        /- name: a-flag\n {4}value: "yes"\n/,
        "YAML words are quoted",
      );
    });
    it("passes ignorePreflightErrors to every node", () => {
      const st = settings({ ignorePreflightErrors: ["NumCPU"] });
      assert.deepEqual((initDoc(st, "InitConfiguration").nodeRegistration as Any).ignorePreflightErrors, [
        "NumCPU",
      ]);
      assert.deepEqual(
        (
          buildJoinConfigurationV1beta4(st, m2, { token: TOKEN, caCertHash: HASH }, true)
            .nodeRegistration as Any
        ).ignorePreflightErrors,
        ["NumCPU"],
      );
    });
    it("sets the kubelet's cgroup driver to systemd, as containerd is configured", () => {
      assert.match(
        renderInitConfigV1beta4(s, m1, TOKEN),
        /kind: KubeletConfiguration\ncgroupDriver: systemd\n$/,
      );
    });
    it("gives the masters the same configuration with or without workers", () => {
      const withWorkers = settings({ workers: workers(3) });
      assert.equal(renderInitConfigV1beta4(withWorkers, m1, TOKEN), renderInitConfigV1beta4(s, m1, TOKEN));
      assert.equal(
        renderJoinConfigV1beta4(withWorkers, m2, { token: TOKEN, caCertHash: HASH }, true),
        renderJoinConfigV1beta4(s, m2, { token: TOKEN, caCertHash: HASH }, true),
      );
    });
    it("writes Go durations as kubeadm prints them", () => {
      assert.equal(goDuration(86400), "24h0m0s");
      assert.equal(goDuration(3725), "1h2m5s");
    });
  });

  describe("YAML writer", () => {
    it("quotes what YAML would misread and leaves the rest plain", () => {
      assert.equal(yamlScalar("true"), '"true"');
      assert.equal(yamlScalar("Off"), '"Off"');
      assert.equal(yamlScalar("6443"), '"6443"');
      assert.equal(yamlScalar("1.31"), '"1.31"');
      assert.equal(yamlScalar("10.96.0.0/12"), '"10.96.0.0/12"');
      assert.equal(yamlScalar("*.example.com"), '"*.example.com"');
      assert.equal(yamlScalar("a: b"), '"a: b"');
      assert.equal(yamlScalar("line\nbreak"), '"line\\nbreak"');
      assert.equal(
        yamlScalar("unix:///var/run/containerd/containerd.sock"),
        "unix:///var/run/containerd/containerd.sock",
      );
      assert.equal(yamlScalar("v1.31.4"), "v1.31.4");
      assert.equal(yamlScalar(6443), "6443");
    });
    it("writes nested maps and lists, empty ones inline, and skips undefined", () => {
      assert.equal(
        toYaml({ a: { b: [1, { c: "x", d: [] }], e: {}, f: undefined }, g: [[1, 2]] }),
        "a:\n  b:\n  - 1\n  - c: x\n    d: []\n  e: {}\ng:\n- - 1\n  - 2\n",
      );
    });
  });

  describe("files", () => {
    it("the default audit policy (golden)", () => {
      assertGolden("controlplane/audit-policy.yaml", renderDefaultAuditPolicy());
    });
    it("keeps Secret, ConfigMap and token bodies out of the audit log", () => {
      const policy = renderDefaultAuditPolicy();
      const metadata = policy.indexOf("level: Metadata\n  resources:");
      assert.ok(
        metadata > 0 && metadata < policy.indexOf("level: Request"),
        "Secrets are matched (Metadata) before the catch-all",
      );
      assert.match(policy, /- secrets\n {4}- configmaps\n {4}- serviceaccounts\/token/);
    });
    it("the encryption configuration: secretbox (golden), aescbc, identity last", () => {
      assertGolden(
        "controlplane/encryption-config-secretbox.yaml",
        renderEncryptionConfiguration(SecretsEncryptionProvider.Secretbox, KEY32),
      );
      const aescbc = buildEncryptionConfiguration(SecretsEncryptionProvider.Aescbc, KEY32) as Any;
      assert.deepEqual(aescbc.resources[0].providers, [
        { aescbc: { keys: [{ name: "key1", secret: KEY32 }] } },
        { identity: {} },
      ]);
      assert.deepEqual(aescbc.resources[0].resources, ["secrets"]);
    });
    it("refuses an encryption key that is not 32 bytes", () => {
      assert.throws(
        () =>
          renderEncryptionConfiguration(
            SecretsEncryptionProvider.Secretbox,
            Buffer.alloc(16).toString("base64"),
          ),
        /32 bytes/,
      );
    });
    it("the kubeconfig (golden): server https://endpoint, the CA and the client certificate embedded", () => {
      const kc = renderKubeconfig({
        clusterName: "kubernetes",
        server: "https://10.0.0.10:6443",
        caCertPem: "CA PEM\n",
        clientCertPem: "CERT PEM\n",
        clientKeyPem: "KEY PEM\n",
      });
      assertGolden("controlplane/kubeconfig.yaml", kc);
      assert.match(kc, /client-key-data: S0VZIFBFTQo=/);
    });
    it("the bootstrap token Secret (golden), as kubeadm makes it", () => {
      assertGolden(
        "controlplane/bootstrap-token-secret.yaml",
        renderBootstrapTokenSecret(TOKEN, "hakube HaControlPlane cp join token"),
      );
      const secret = buildBootstrapTokenSecret(TOKEN, "d") as Any;
      assert.equal(secret.metadata.name, "bootstrap-token-abcdef");
      assert.equal(secret.type, "bootstrap.kubernetes.io/token");
    });
    it("refuses a malformed bootstrap token without echoing it", () => {
      assert.deepEqual(splitBootstrapToken(TOKEN), { id: "abcdef", secret: "0123456789abcdef" });
      assert.throws(
        () => splitBootstrapToken("ABCDEF 0123456789abcdef"),
        (e: Error) => !e.message.includes("ABCDEF"),
      );
    });
    it("gives a stacked master the etcd CA key, an external one the etcd client certificate; keys 0600", () => {
      const common = {
        caCert: "C",
        caKey: "K",
        frontProxyCaCert: "FC",
        frontProxyCaKey: "FK",
        saKey: "SK",
        saPub: "SP",
        etcdCaCert: "EC",
        kubeadmConfig: "CFG",
      };
      const stacked = masterFiles(EtcdTopology.Stacked, {
        ...common,
        etcdCaKey: "EK",
        auditPolicy: "AP",
        encryptionConfig: "EN",
      });
      assert.deepEqual(
        stacked.map((f) => `${f.path} ${f.mode}`),
        [
          "/etc/kubernetes/pki/ca.crt 0644",
          "/etc/kubernetes/pki/ca.key 0600",
          "/etc/kubernetes/pki/front-proxy-ca.crt 0644",
          "/etc/kubernetes/pki/front-proxy-ca.key 0600",
          "/etc/kubernetes/pki/sa.key 0600",
          "/etc/kubernetes/pki/sa.pub 0644",
          "/etc/kubernetes/pki/etcd/ca.crt 0644",
          "/etc/kubernetes/pki/etcd/ca.key 0600",
          "/etc/kubernetes/hakube/apiserver/audit-policy.yaml 0600",
          "/etc/kubernetes/hakube/apiserver/encryption-config.yaml 0600",
          "/etc/kubernetes/hakube/kubeadm.yaml 0600",
        ],
      );
      const external = masterFiles(EtcdTopology.External, {
        ...common,
        apiServerEtcdClientCert: "XC",
        apiServerEtcdClientKey: "XK",
      });
      assert.deepEqual(
        external.map((f) => f.path).filter((p) => /etcd/.test(p)),
        [
          "/etc/kubernetes/pki/etcd/ca.crt",
          "/etc/kubernetes/pki/apiserver-etcd-client.crt",
          "/etc/kubernetes/pki/apiserver-etcd-client.key",
        ],
      );
      assert.throws(() => masterFiles(EtcdTopology.Stacked, common), /etcd CA key/);
      assert.deepEqual(workerFiles("CFG"), [
        { path: KUBEADM_CONFIG_FILE, mode: "0600", owner: "root:root", content: "CFG" },
      ]);
    });
    it("protects the CAs and keys of a running cluster; restarts the API server for etcd client files and the audit policy", () => {
      assert.ok(protectedFiles(EtcdTopology.Stacked).includes("/etc/kubernetes/pki/etcd/ca.key"));
      assert.ok(!protectedFiles(EtcdTopology.External).includes("/etc/kubernetes/pki/etcd/ca.crt"));
      assert.ok(
        protectedFiles(EtcdTopology.External).includes(
          "/etc/kubernetes/hakube/apiserver/encryption-config.yaml",
        ),
      );
      assert.deepEqual(apiServerRestartFiles(EtcdTopology.Stacked), [
        "/etc/kubernetes/hakube/apiserver/audit-policy.yaml",
      ]);
      assert.equal(apiServerRestartFiles(EtcdTopology.External).length, 4);
    });
  });

  describe("discovery token CA certificate hash", () => {
    const openssl = spawnSync("openssl", ["version"]).status === 0;
    for (const [kind, newkey] of [
      ["ECDSA P-256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]],
      ["RSA 2048", ["-newkey", "rsa:2048"]],
    ] as const) {
      it(`equals openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum (${kind})`, function () {
        if (!openssl) this.skip();
        const dir = tempDir("cahash");
        try {
          const req = `req -x509 -nodes -keyout ${dir}/ca.key -out ${dir}/ca.crt -subj /CN=kubernetes -days 1`;
          const r = spawnSync("openssl", [...req.split(" "), ...newkey], { encoding: "utf8" });
          assert.equal(r.status, 0, r.stderr);
          const sh = runSh(
            `openssl x509 -pubkey -noout -in ca.crt | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1`,
            { cwd: dir },
          );
          assert.equal(sh.code, 0, sh.stderr);
          assert.equal(
            discoveryTokenCaCertHash(fs.readFileSync(`${dir}/ca.crt`, "utf8")),
            `sha256:${sh.stdout.trim()}`,
          );
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    }
    it("says what is wrong with a PEM that is not a certificate", () => {
      assert.throws(
        () => discoveryTokenCaCertHash("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"),
        /the cluster CA certificate is not a PEM X.509 certificate/,
      );
    });
  });

  describe("CNI chart values", () => {
    it("Cilium: Kubernetes IPAM and the endpoint", () => {
      assert.deepEqual(cniChartValues(CniKind.Cilium, s), {
        ipam: { mode: "kubernetes" },
        ipv4: { enabled: true },
        ipv6: { enabled: false },
        k8sServiceHost: "10.0.0.10",
        k8sServicePort: 6443,
      });
    });
    it("Calico: one pool equal to podSubnet", () => {
      const v = cniChartValues(CniKind.Calico, settings({ podSubnet: "10.32.0.0/16" })) as Any;
      assert.equal(v.installation.calicoNetwork.ipPools[0].cidr, "10.32.0.0/16");
      assert.deepEqual(v.kubernetesServiceEndpoint, { host: "10.0.0.10", port: "6443" });
    });
  });

  describe("scripts", () => {
    const withWorkers = settings({ workers: workers(2) });
    const external = settings({ etcd: EXTERNAL });
    const preinstalled = settings({ install: { method: InstallMethod.Preinstalled } });
    const release = settings({
      kubernetesVersion: "1.20.2",
      imageRepository: "registry.example:5000/k8s",
      nodesInContainers: true,
      install: {
        method: InstallMethod.Release,
        baseUrl: "https://mirror.example/release",
        sha256: { kubeadm: "a".repeat(64), kubelet: "b".repeat(64), kubectl: "c".repeat(64) },
      },
    });
    const scripts: Record<string, string> = {
      "prepare-package.sh": renderPrepareScript(s, m1),
      "prepare-preinstalled.sh": renderPrepareScript(preinstalled, m1),
      "prepare-release-1.20.sh": renderPrepareScript(release, m1),
      "init-m1.sh": renderInitScript(s, m1),
      "init-m1-external.sh": renderInitScript(external, m1),
      "join-m2.sh": renderJoinScript(s, m2, true),
      "join-w1.sh": renderJoinScript(withWorkers, withWorkers.workers[0], false),
      "token.sh": renderTokenScript(s, m1),
      "ready.sh": renderReadyScript(withWorkers, m1),
    };
    for (const [file, script] of Object.entries(scripts)) {
      it(`${file} (golden) parses as POSIX sh and stops on errors`, () => {
        assertGolden(`controlplane/${file}`, script);
        assert.equal(shSyntaxError(script), undefined, `${file} has a syntax error`);
        assert.ok(script.startsWith("# hakube HaControlPlane cp: "), file);
        assert.match(script, /\nset -eu\n/);
      });
    }
    it("carries no secret: no key, token or encryption key in any script", () => {
      for (const [file, script] of Object.entries(scripts)) {
        assert.doesNotMatch(script, /PRIVATE KEY|0123456789abcdef|abcdef\./, file);
        assert.ok(!script.includes(KEY32), file);
      }
    });
    it("pins the packages to the version from the repository of its minor", () => {
      const p = scripts["prepare-package.sh"];
      assert.match(p, /\nREPO='https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.31'\n/);
      assert.match(p, /"kubelet=\$VERSION-\*" "kubeadm=\$VERSION-\*" "kubectl=\$VERSION-\*"/);
      assert.match(p, /apt-mark hold kubelet kubeadm kubectl/);
      assert.equal(
        renderAptSource("https://pkgs.k8s.io/core:/stable:", "1.32"),
        "deb [signed-by=/etc/apt/keyrings/hakube-kubernetes.gpg] https://pkgs.k8s.io/core:/stable:/v1.32/deb/ /\n",
      );
      assert.match(
        renderYumRepo("https://pkgs.k8s.io/core:/stable:", "1.32"),
        /baseurl=https:\/\/pkgs.k8s.io\/core:\/stable:\/v1.32\/rpm\/\n/,
      );
      assert.doesNotMatch(scripts["prepare-preinstalled.sh"], /apt-get install|REPO=/);
    });
    it("refuses to move a node that is in a cluster to another version", () => {
      assert.match(
        scripts["prepare-package.sh"],
        /is an upgrade \(kubeadm upgrade\), which hakube does not automate yet/,
      );
    });
    it("turns swap off, loads overlay and br_netfilter, and sets the sysctls (IPv6 forwarding only for IPv6)", () => {
      const p = scripts["prepare-package.sh"];
      assert.match(p, /swapoff -a/);
      assert.match(p, /overlay\nbr_netfilter\n/);
      assert.doesNotMatch(renderSysctlFile(false), /ipv6/);
      assert.match(renderSysctlFile(true), /net.ipv6.conf.all.forwarding = 1/);
      const v6 = resolveHaControlPlane("cp", {
        masters: [{ ...hosts(1)[0], address: "fd00::11" }],
        kubernetesVersion: "1.31.4",
        podSubnet: "fd00:10:244::/56",
        serviceSubnet: "fd00:10:96::/112",
      });
      assert.match(renderPrepareScript(v6, v6.masters[0]), /net.ipv6.conf.all.forwarding = 1/);
    });
    it("leaves an initialized or joined node alone (admin.conf, kubelet.conf)", () => {
      assert.match(scripts["init-m1.sh"], /\[ ! -f \/etc\/kubernetes\/admin.conf \] \|\| INITIALIZED=1/);
      assert.match(scripts["join-m2.sh"], /\[ ! -f \/etc\/kubernetes\/kubelet.conf \] \|\| INITIALIZED=1/);
      assert.match(scripts["join-w1.sh"], /\[ ! -f \/etc\/kubernetes\/kubelet.conf \] \|\| INITIALIZED=1/);
    });
    it("runs kubeadm's preflight first, resets only after it passed, and never prints the token", () => {
      const init = scripts["init-m1.sh"];
      assert.match(init, /run_kubeadm init --skip-token-print/);
      assert.ok(init.indexOf("phase preflight") < init.indexOf("--skip-phases=preflight"));
      assert.ok(init.indexOf("--skip-phases=preflight") < init.indexOf("kubeadm reset --force"));
      assert.match(scripts["join-m2.sh"], /\nrun_kubeadm join\n/);
    });
    it("the readiness gate checks the endpoint, every API server and every node", () => {
      const r = scripts["ready.sh"];
      assert.match(
        r,
        /URLS='https:\/\/10.0.0.10:6443\/readyz https:\/\/10.0.0.11:6443\/readyz https:\/\/10.0.0.12:6443\/readyz https:\/\/10.0.0.13:6443\/readyz'/,
      );
      assert.match(r, /NODES='m1 m2 m3 w1 w2'/);
      assert.match(r, /curl -fsSg --cacert \/etc\/kubernetes\/pki\/ca.crt/);
    });
    it("the token script fills in the expiry on the host and applies the Secret from stdin", () => {
      assert.match(
        scripts["token.sh"],
        /sed "s\|HAKUBE_TOKEN_EXPIRATION\|\$exp64\|" \| kubectl --kubeconfig=\/etc\/kubernetes\/admin.conf apply --server-side/,
      );
    });
  });

  describe("token and readiness scripts, run with a fake kubectl and curl", () => {
    /** Run a rendered script with admin.conf and the CA moved into `dir` and fake tools first on PATH. */
    function runWithFakes(script: string, dir: string, tools: Record<string, string>, stdin = "") {
      fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
      for (const [name, body] of Object.entries(tools)) {
        fs.writeFileSync(path.join(dir, "bin", name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      }
      fs.writeFileSync(path.join(dir, "admin.conf"), "");
      const moved = script
        .replaceAll("/etc/kubernetes/admin.conf", path.join(dir, "admin.conf"))
        .replace(/\nTIMEOUT='\d+'\n/, "\nTIMEOUT='1'\n")
        .replaceAll("sleep 2", "sleep 0.2");
      return runSh(moved, { stdin, env: { PATH: `${path.join(dir, "bin")}:${process.env.PATH}` } });
    }
    it("the token script applies the Secret with an expiry 24 hours ahead, in base64", () => {
      const dir = tempDir("cp-token");
      try {
        const secret = renderBootstrapTokenSecret(TOKEN, "d");
        const r = runWithFakes(
          renderTokenScript(s, m1),
          dir,
          { kubectl: `echo "$*" > "${dir}/args"; cat > "${dir}/applied"` },
          secret,
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          fs.readFileSync(path.join(dir, "args"), "utf8"),
          /apply --server-side --force-conflicts --field-manager=hakube -f -/,
        );
        const applied = fs.readFileSync(path.join(dir, "applied"), "utf8");
        const exp = Buffer.from(/ {2}expiration: (\S+)\n/.exec(applied)![1], "base64").toString();
        const hours = (Date.parse(exp) - Date.now()) / 3600000;
        assert.ok(hours > 23.9 && hours <= 24, `expiration ${exp}`);
        assert.equal(
          applied.replace(/ {2}expiration: \S+\n/, ""),
          secret.replace(/ {2}expiration: \S+\n/, ""),
        );
        assert.doesNotMatch(r.stdout + r.stderr, /0123456789abcdef/, "the token is never printed");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
    it("the readiness gate passes once every URL answers and every node is registered, and says what it waits for", () => {
      const dir = tempDir("cp-ready");
      try {
        const st = settings({ workers: workers(2) });
        const ok = runWithFakes(renderReadyScript(st, m1), dir, {
          curl: "exit 0",
          kubectl: "printf 'm1 m2 m3 w1 w2'",
        });
        assert.equal(ok.code, 0, ok.stderr);
        assert.match(
          ok.stdout,
          /ready: 4 URLs answer \/readyz \(the endpoint and every API server\), 5 nodes are registered/,
        );
        const waiting = runWithFakes(renderReadyScript(st, m1), dir, {
          curl: 'case "$*" in *10.0.0.12*) exit 7 ;; esac',
          kubectl: "printf 'm1 m2 m3 w1'",
        });
        assert.equal(waiting.code, 1);
        assert.match(
          waiting.stderr,
          /not ready after 1 s, still waiting for: https:\/\/10.0.0.12:6443\/readyz node\/w2\n/,
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("file bundle on an initialized node (run for real in a temporary directory)", () => {
    function run(dir: string, initialized: boolean, files: Record<string, string>) {
      const bundle = renderFileBundle(
        Object.entries(files).map(([name, content]) => ({
          path: path.join(dir, name),
          mode: name.endsWith(".key") ? "0600" : "0644",
          owner: "root:root",
          content,
        })),
      );
      const script = [
        "set -eu",
        shAssignments([["NAME", "m1"]]),
        shFunctions("t"),
        `INITIALIZED=${initialized ? 1 : 0}`,
        shStageAndPutBundle(
          [path.join(dir, "ca.key")],
          [path.join(dir, "audit.yaml")],
          path.join(dir, "kubeadm.yaml"),
        ),
        'echo "restart=$API_SERVER_RESTART config=$KUBEADM_CONFIG_CHANGED changed=$CHANGED"',
      ].join("\n");
      assert.equal(shSyntaxError(script), undefined);
      return runSh(script, { stdin: bundle });
    }
    it("writes every file on a new node, keys 0600, into directories it makes", () => {
      const dir = tempDir("cp-bundle");
      try {
        const r = run(dir, false, { "ca.key": "SECRET_K1", "pki/ca.crt": "C1", "kubeadm.yaml": "A" });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /restart=0 config=1 changed=1/);
        assert.equal(fs.readFileSync(path.join(dir, "ca.key"), "utf8"), "SECRET_K1");
        assert.equal(fs.statSync(path.join(dir, "ca.key")).mode & 0o777, 0o600);
        assert.equal(fs.readFileSync(path.join(dir, "pki/ca.crt"), "utf8"), "C1");
        // "_" never occurs in a temp dir's random suffix, which the output prints in paths.
        assert.doesNotMatch(r.stdout + r.stderr, /SECRET_K1/, "contents are never printed");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
    it("changes nothing when run again with the same files", () => {
      const dir = tempDir("cp-bundle");
      try {
        const files = { "ca.key": "SECRET_K1", "audit.yaml": "P1", "kubeadm.yaml": "A" };
        assert.equal(run(dir, false, files).code, 0);
        const again = run(dir, true, files);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /restart=0 config=0 changed=0/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
    it("refuses a new CA key on an initialized node and writes nothing", () => {
      const dir = tempDir("cp-bundle");
      try {
        assert.equal(run(dir, false, { "ca.key": "SECRET_K1", "kubeadm.yaml": "A" }).code, 0);
        const r = run(dir, true, { "ca.key": "SECRET_K2", "kubeadm.yaml": "B" });
        assert.equal(r.code, 1);
        assert.match(
          r.stderr,
          new RegExp(`refusing to change ${dir}/ca.key on m1, which is already part of the cluster`),
        );
        assert.equal(fs.readFileSync(path.join(dir, "ca.key"), "utf8"), "SECRET_K1");
        assert.equal(fs.readFileSync(path.join(dir, "kubeadm.yaml"), "utf8"), "A", "nothing was written");
        assert.ok(
          run(dir, false, { "ca.key": "SECRET_K2", "kubeadm.yaml": "B" }).code === 0,
          "a node that is not initialized takes it",
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
    it("flags a changed audit policy for an API server restart and a changed kubeadm configuration", () => {
      const dir = tempDir("cp-bundle");
      try {
        assert.equal(run(dir, false, { "audit.yaml": "P1", "kubeadm.yaml": "A" }).code, 0);
        const r = run(dir, true, { "audit.yaml": "P2", "kubeadm.yaml": "B" });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /restart=1 config=1 changed=1/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe("HaControlPlane settings", () => {
  it("resolves the defaults", () => {
    const st = resolveHaControlPlane("cp", { masters: hosts(1), kubernetesVersion: "v1.32.0" });
    assert.equal(st.kubernetesVersion, "1.32.0");
    assert.equal(st.kubernetesMinor, "1.32");
    assert.equal(st.clusterName, "kubernetes");
    assert.equal(st.podSubnet, "10.244.0.0/16");
    assert.equal(st.serviceSubnet, "10.96.0.0/12");
    assert.equal(st.etcdTopology, EtcdTopology.Stacked);
    assert.deepEqual(st.secretsEncryption, { provider: SecretsEncryptionProvider.Secretbox });
    assert.deepEqual(
      { ...st.audit, policy: undefined },
      { policy: undefined, maxAgeDays: 30, maxBackups: 10, maxSizeMb: 100 },
    );
    assert.deepEqual(st.install, {
      method: InstallMethod.Package,
      repositoryUrl: "https://pkgs.k8s.io/core:/stable:",
      releaseBaseUrl: "https://dl.k8s.io/release",
      sha256: undefined,
    });
    assert.equal(st.readyTimeoutSeconds, 600);
    assert.equal(st.imageRepository, "registry.k8s.io");
    assert.equal(st.pauseImage, "registry.k8s.io/pause:3.10");
    assert.equal(st.kubeadmApi, "v1beta4");
    assert.equal(st.cgroupDriver, "systemd");
    assert.equal(st.kubeadmNeedsCrictl, false);
    assert.equal(st.nodesInContainers, false);
  });
  it("gives the kubeconfig the admin group kubeadm of that version binds to cluster-admin", () => {
    const group = (v: string) =>
      resolveHaControlPlane("cp", { masters: hosts(1), kubernetesVersion: v }).adminGroup;
    assert.equal(group("1.20.2"), "system:masters");
    assert.equal(group("1.28.9"), "system:masters");
    assert.equal(group("1.29.0"), "kubeadm:cluster-admins");
  });
  it("follows the version: kubeadm API, cgroup driver, pause image, crictl", () => {
    const at = (v: string) => resolveHaControlPlane("cp", { masters: hosts(1), kubernetesVersion: v });
    const pick = (v: string) => {
      const st = at(v);
      return [st.kubeadmApi, st.cgroupDriver, st.pauseImage, st.kubeadmNeedsCrictl];
    };
    assert.deepEqual(pick("1.20.2"), ["v1beta2", "cgroupfs", "registry.k8s.io/pause:3.2", true]);
    // kubeadm 1.21's init writes systemd when the driver is unset (CHANGELOG-1.21, #99471).
    assert.deepEqual(pick("1.21.14"), ["v1beta2", "systemd", "registry.k8s.io/pause:3.4.1", true]);
    assert.deepEqual(pick("1.22.0"), ["v1beta3", "systemd", "registry.k8s.io/pause:3.5", true]);
    assert.deepEqual(pick("1.30.8"), ["v1beta3", "systemd", "registry.k8s.io/pause:3.9", true]);
    assert.deepEqual(pick("1.31.0"), ["v1beta4", "systemd", "registry.k8s.io/pause:3.10", false]);
    assert.deepEqual(pick("1.37.1"), ["v1beta4", "systemd", "registry.k8s.io/pause:3.10.1", false]);
    const mirrored = resolveHaControlPlane("cp", {
      masters: hosts(1),
      kubernetesVersion: "1.20.2",
      imageRepository: "10.77.0.1:5000/k8s/",
    });
    assert.equal(mirrored.imageRepository, "10.77.0.1:5000/k8s");
    assert.equal(mirrored.pauseImage, "10.77.0.1:5000/k8s/pause:3.2");
  });
  it("takes a custom audit policy as it is", () => {
    const policy = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n";
    assert.equal(settings({ apiServer: { audit: { policy } } }).audit?.policy, policy);
  });
});
