/**
 * kubeadm's configuration across API versions: which version each Kubernetes minor gets, the files of
 * v1beta2 (1.20-1.21) and v1beta3 (1.22-1.30) pinned as golden files beside v1beta4's (in
 * controlplane-render.test.ts), and every difference between the versions asserted exactly. That each field
 * exists in its version is kubeadm-api-fields.test.ts's job.
 */
import { strict as assert } from "node:assert";
import * as yaml from "js-yaml";
import { renderInitConfig, renderJoinConfig } from "../../components/controlplane/render/kubeadm";
import { argsAsMap, keyAlgorithmAsFeatureGate } from "../../components/controlplane/render/kubeadm.v1beta2";
import { resolveHaControlPlane } from "../../components/controlplane/settings";
import {
  ControlPlaneSettings,
  EtcdTopology,
  KnownHaControlPlaneArgs,
  LeaderElectionProfile,
} from "../../components/controlplane/types";
import { KeyAlgorithm } from "../../components/pki/profiles";
import { EXTERNAL, HASH, OIDC_AND_EXTRAS, TOKEN } from "./helpers/controlplane";
import { assertGolden } from "./helpers/golden";
import { hosts } from "./helpers/hosts";

const DISCOVERY = { token: TOKEN, caCertHash: HASH };
const WORKER = { ...hosts(1)[0], name: "w1", address: "10.0.1.21" };

function settings(version: string, over: Partial<KnownHaControlPlaneArgs> = {}): ControlPlaneSettings {
  return resolveHaControlPlane("cp", {
    masters: hosts(3),
    endpoint: "10.0.0.10:6443",
    kubernetesVersion: version,
    ...over,
  });
}
const init = (s: ControlPlaneSettings) =>
  renderInitConfig(
    s,
    s.masters[0],
    TOKEN,
    s.etcdTopology === EtcdTopology.External ? EXTERNAL.endpoints : undefined,
  );
// The documents are read back as plain data.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
/** The init file's documents by kind. */
function initDocs(s: ControlPlaneSettings): { [kind: string]: Any } {
  return Object.fromEntries(yaml.loadAll(init(s)).map((d) => [(d as Any).kind, d]));
}
const joinDoc = (s: ControlPlaneSettings, controlPlane = true): Any =>
  yaml.load(renderJoinConfig(s, controlPlane ? s.masters[1] : s.workers[0], DISCOVERY, controlPlane));

/** One version of each API, and the versions the goldens are rendered at. */
const AT = { v1beta2: "1.20.15", v1beta3: "1.30.14", v1beta4: "1.31.4" } as const;

describe("kubeadm configuration per API version", () => {
  describe("dispatch by the Kubernetes minor", () => {
    for (const [version, api] of [
      ["1.20.15", "v1beta2"],
      ["1.21.14", "v1beta2"],
      ["1.22.0", "v1beta3"],
      ["1.30.14", "v1beta3"],
      ["1.31.0", "v1beta4"],
      ["1.35.1", "v1beta4"],
    ]) {
      it(`${version} -> kubeadm.k8s.io/${api}, init and join`, () => {
        const s = settings(version, { workers: [WORKER] });
        const docs = yaml.loadAll(init(s)) as Any[];
        assert.deepEqual(
          docs.map((d) => d.apiVersion),
          [`kubeadm.k8s.io/${api}`, `kubeadm.k8s.io/${api}`, "kubelet.config.k8s.io/v1beta1"],
        );
        assert.equal(joinDoc(s).apiVersion, `kubeadm.k8s.io/${api}`);
        assert.equal(joinDoc(s, false).apiVersion, `kubeadm.k8s.io/${api}`);
      });
    }
  });

  for (const api of ["v1beta2", "v1beta3"] as const) {
    const at = (over: Partial<KnownHaControlPlaneArgs> = {}) => settings(AT[api], over);
    describe(`${api} (golden, Kubernetes ${AT[api]})`, () => {
      it("stacked etcd, with the defaults (audit and encryption on)", () => {
        assertGolden(`controlplane/kubeadm-init-stacked.${api}.yaml`, init(at()));
      });
      it("external etcd", () => {
        assertGolden(`controlplane/kubeadm-init-external.${api}.yaml`, init(at({ etcd: EXTERNAL })));
      });
      it("OIDC, extra SANs, extra API server flags and ignored preflight checks", () => {
        const s = at(OIDC_AND_EXTRAS);
        assertGolden(`controlplane/kubeadm-init-oidc.${api}.yaml`, init(s));
      });
      it("audit log off", () => {
        assertGolden(
          `controlplane/kubeadm-init-audit-off.${api}.yaml`,
          init(at({ apiServer: { audit: { enabled: false } } })),
        );
      });
      it("encryption of Secrets off", () => {
        assertGolden(
          `controlplane/kubeadm-init-encryption-off.${api}.yaml`,
          init(at({ apiServer: { secretsEncryption: { enabled: false } } })),
        );
      });
      it("a joining master", () => {
        const s = at();
        assertGolden(
          `controlplane/kubeadm-join-m2.${api}.yaml`,
          renderJoinConfig(s, s.masters[1], DISCOVERY, true),
        );
      });
      it("a joining worker", () => {
        const s = at({ workers: [WORKER] });
        assertGolden(
          `controlplane/kubeadm-join-w1.${api}.yaml`,
          renderJoinConfig(s, s.workers[0], DISCOVERY, false),
        );
      });
    });
  }
  describe("kubeadm 1.21.2-1.24 (golden, Kubernetes 1.21.14)", () => {
    it("names CoreDNS's repository beside imageRepository, and the kubelet uses systemd", () => {
      assertGolden("controlplane/kubeadm-init-coredns-repository.v1beta2.yaml", init(settings("1.21.14")));
    });
  });
  describe("nodes in containers (golden, each version)", () => {
    for (const api of ["v1beta2", "v1beta3", "v1beta4"] as const) {
      it(`${api}: a KubeProxyConfiguration with conntrack maxPerCore 0 after the KubeletConfiguration`, () => {
        const s = settings(AT[api], { nodesInContainers: true, imageRepository: "10.77.0.1:5000/k8s" });
        assertGolden(`controlplane/kubeadm-init-nodes-in-containers.${api}.yaml`, init(s));
      });
    }
  });

  describe("what differs between the versions, exactly", () => {
    const docs = (api: keyof typeof AT, over: Partial<KnownHaControlPlaneArgs> = {}) =>
      initDocs(settings(AT[api], over));

    it("extra arguments: maps in v1beta2 and v1beta3, lists of { name, value } in v1beta4", () => {
      for (const api of ["v1beta2", "v1beta3"] as const) {
        const d = docs(api, { apiServer: { audit: { enabled: false }, extraArgs: { "a-flag": "yes" } } });
        assert.deepEqual(d.ClusterConfiguration.apiServer.extraArgs, {
          "encryption-provider-config": "/etc/kubernetes/hakube/apiserver/encryption-config.yaml",
          "a-flag": "yes",
        });
        assert.deepEqual(d.ClusterConfiguration.controllerManager.extraArgs, { "leader-elect": "true" });
        assert.deepEqual(d.ClusterConfiguration.scheduler.extraArgs, { "leader-elect": "true" });
        assert.deepEqual(d.InitConfiguration.nodeRegistration.kubeletExtraArgs, { "node-ip": "10.0.0.11" });
        assert.deepEqual(joinDoc(settings(AT[api])).nodeRegistration.kubeletExtraArgs, {
          "node-ip": "10.0.0.12",
        });
      }
      const d = docs("v1beta4", { apiServer: { audit: { enabled: false }, extraArgs: { "a-flag": "yes" } } });
      assert.deepEqual(d.ClusterConfiguration.apiServer.extraArgs, [
        {
          name: "encryption-provider-config",
          value: "/etc/kubernetes/hakube/apiserver/encryption-config.yaml",
        },
        { name: "a-flag", value: "yes" },
      ]);
      assert.deepEqual(d.ClusterConfiguration.controllerManager.extraArgs, [
        { name: "leader-elect", value: "true" },
      ]);
      assert.deepEqual(d.InitConfiguration.nodeRegistration.kubeletExtraArgs, [
        { name: "node-ip", value: "10.0.0.11" },
      ]);
    });
    it("the fast leader election profile: three more flags for the controller manager and the scheduler", () => {
      const fast = { leaderElection: { profile: LeaderElectionProfile.Fast } };
      const want = {
        "leader-elect": "true",
        "leader-elect-lease-duration": "8s",
        "leader-elect-renew-deadline": "6s",
        "leader-elect-retry-period": "1s",
      };
      for (const api of ["v1beta2", "v1beta3"] as const) {
        const d = docs(api, fast);
        assert.deepEqual(d.ClusterConfiguration.controllerManager.extraArgs, want);
        assert.deepEqual(d.ClusterConfiguration.scheduler.extraArgs, want);
      }
      assert.deepEqual(
        docs("v1beta4", fast).ClusterConfiguration.scheduler.extraArgs,
        Object.entries(want).map(([name, value]) => ({ name, value })),
      );
    });
    it("a map cannot hold a flag twice: v1beta2 and v1beta3 refuse rather than drop one", () => {
      assert.deepEqual(
        argsAsMap([
          ["b", "1"],
          ["a", "2"],
        ]),
        { b: "1", a: "2" },
      );
      assert.throws(
        () =>
          argsAsMap([
            ["a", "1"],
            ["a", "2"],
          ]),
        /take each extra argument once, got a twice/,
      );
    });
    it("ECDSA P-256: encryptionAlgorithm in v1beta4, the PublicKeysECDSA feature gate before", () => {
      for (const api of ["v1beta2", "v1beta3"] as const) {
        const c = docs(api).ClusterConfiguration;
        assert.deepEqual(c.featureGates, { PublicKeysECDSA: true });
        assert.equal("encryptionAlgorithm" in c, false);
      }
      const c = docs("v1beta4").ClusterConfiguration;
      assert.equal(c.encryptionAlgorithm, "ECDSA-P256");
      assert.equal("featureGates" in c, false);
    });
    it("RSA-2048: encryptionAlgorithm in v1beta4, nothing before (kubeadm's default)", () => {
      for (const api of ["v1beta2", "v1beta3"] as const) {
        const c = docs(api, { keyAlgorithm: KeyAlgorithm.Rsa2048 }).ClusterConfiguration;
        assert.equal("featureGates" in c, false);
        assert.equal("encryptionAlgorithm" in c, false);
      }
      assert.equal(
        docs("v1beta4", { keyAlgorithm: KeyAlgorithm.Rsa2048 }).ClusterConfiguration.encryptionAlgorithm,
        "RSA-2048",
      );
      assert.throws(() => keyAlgorithmAsFeatureGate("RSA-3072"), /only RSA-2048 or ECDSA-P256/);
    });
    it("imageRepository is explicit in every version, and follows the argument", () => {
      for (const api of ["v1beta2", "v1beta3", "v1beta4"] as const) {
        assert.equal(docs(api).ClusterConfiguration.imageRepository, "registry.k8s.io");
        assert.equal(
          docs(api, { imageRepository: "10.77.0.1:5000/k8s/" }).ClusterConfiguration.imageRepository,
          "10.77.0.1:5000/k8s",
        );
      }
    });
    it("CoreDNS's repository only where kubeadm would look for registry.k8s.io/coredns:<tag> (1.21.2-1.24)", () => {
      const dns = (v: string, imageRepository?: string) =>
        initDocs(settings(v, { imageRepository })).ClusterConfiguration.dns;
      for (const v of ["1.21.2", "1.21.14", "1.22.0", "1.23.17", "1.24.17"]) {
        assert.deepEqual(dns(v), { imageRepository: "registry.k8s.io/coredns" }, v);
      }
      for (const v of ["1.20.15", "1.21.0", "1.21.1", "1.25.0", "1.30.14", "1.31.4", "1.35.1"]) {
        assert.equal(dns(v), undefined, v);
      }
      assert.equal(dns("1.23.17", "10.77.0.1:5000/k8s"), undefined, "a mirror serves what kubeadm asks for");
    });
    it("the kubelet's cgroup driver follows the minor: cgroupfs for 1.20, systemd from 1.21", () => {
      const driver = (v: string) => initDocs(settings(v)).KubeletConfiguration;
      assert.deepEqual(driver("1.20.15"), {
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        cgroupDriver: "cgroupfs",
      });
      for (const v of ["1.21.14", "1.22.0", "1.30.14", "1.31.4", "1.35.1"])
        assert.equal(driver(v).cgroupDriver, "systemd");
    });
    it("KubeProxyConfiguration only when the nodes are containers, the same in every version", () => {
      for (const api of ["v1beta2", "v1beta3", "v1beta4"] as const) {
        assert.equal(docs(api).KubeProxyConfiguration, undefined);
        assert.deepEqual(docs(api, { nodesInContainers: true }).KubeProxyConfiguration, {
          apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
          kind: "KubeProxyConfiguration",
          conntrack: { maxPerCore: 0 },
        });
      }
    });
    it("criSocket is containerd's socket URL in every version", () => {
      for (const api of ["v1beta2", "v1beta3", "v1beta4"] as const) {
        assert.equal(
          docs(api).InitConfiguration.nodeRegistration.criSocket,
          "unix:///var/run/containerd/containerd.sock",
        );
        assert.equal(
          joinDoc(settings(AT[api])).nodeRegistration.criSocket,
          "unix:///var/run/containerd/containerd.sock",
        );
      }
    });
    it("for what hakube writes, v1beta3 is v1beta2 under another apiVersion", () => {
      const s = settings(AT.v1beta3, {
        etcd: EXTERNAL,
        workers: [WORKER],
        ignorePreflightErrors: ["NumCPU"],
      });
      const as = (api: "v1beta2" | "v1beta3"): ControlPlaneSettings => ({ ...s, kubeadmApi: api });
      const files = (t: ControlPlaneSettings) => [
        init(t),
        renderJoinConfig(t, t.masters[1], DISCOVERY, true),
        renderJoinConfig(t, t.workers[0], DISCOVERY, false),
      ];
      assert.deepEqual(
        files(as("v1beta2")).map((f) => f.replace(/kubeadm\.k8s\.io\/v1beta2/g, "kubeadm.k8s.io/v1beta3")),
        files(as("v1beta3")),
      );
    });
  });
});
