/**
 * Every field hakube writes into kubeadm's configuration exists in the API version it is written for: each
 * rendered document, with every option on, is walked against the field trees in tests/fixtures/kubeadm-api
 * (read from kubeadm's published types, see each file's `source`). No kubeadm binary runs here, so this is
 * what stands between a field written to the wrong version and a `kubeadm init` that refuses the file (or,
 * worse, ignores the field: kubeadm's decoder is lenient about unknown fields in older versions).
 */
import { strict as assert } from "node:assert";
import * as yaml from "js-yaml";
import { renderInitConfig, renderJoinConfig } from "../../components/controlplane/render/kubeadm";
import { resolveHaControlPlane } from "../../components/controlplane/settings";
import {
  EtcdTopology,
  HaControlPlaneArgs,
  KnownHaControlPlaneArgs,
} from "../../components/controlplane/types";
import { KUBERNETES_MINORS } from "../../components/controlplane/versions";
import { KeyAlgorithm } from "../../components/pki/profiles";
import { HASH, TOKEN } from "./helpers/controlplane";
import { fieldProblems, loadApiFieldTrees, undefinedTypes } from "./helpers/apiFields";
import { hosts } from "./helpers/hosts";

const TREES = loadApiFieldTrees();
const ENDPOINTS = ["https://10.0.0.21:2379", "https://10.0.0.22:2379"];

/** Every option that adds a field, on. */
function allOn(version: string, over: Partial<HaControlPlaneArgs> = {}): HaControlPlaneArgs {
  return {
    masters: hosts(3),
    workers: [{ ...hosts(1)[0], name: "w1", address: "10.0.1.21" }],
    endpoint: "api.example.com:6443",
    kubernetesVersion: version,
    apiServer: {
      extraSans: ["*.api.example.com", "192.0.2.10"],
      oidc: {
        issuerUrl: "https://login.example.com",
        clientId: "kubernetes",
        usernameClaim: "email",
        usernamePrefix: "oidc:",
        groupsClaim: "groups",
        groupsPrefix: "oidc:",
      },
      extraArgs: { "default-not-ready-toleration-seconds": "30" },
    },
    ignorePreflightErrors: ["NumCPU", "Mem"],
    nodesInContainers: true,
    ...over,
  };
}

/** Every document of every file one version renders, parsed back from the YAML. */
function renderedDocuments(args: HaControlPlaneArgs): unknown[] {
  const s = resolveHaControlPlane("cp", args as KnownHaControlPlaneArgs);
  const external = s.etcdTopology === EtcdTopology.External ? ENDPOINTS : undefined;
  const files = [
    renderInitConfig(s, s.masters[0], TOKEN, external),
    renderJoinConfig(s, s.masters[1], { token: TOKEN, caCertHash: HASH }, true),
    renderJoinConfig(s, s.workers[0], { token: TOKEN, caCertHash: HASH }, false),
  ];
  return files.flatMap((f) => yaml.loadAll(f));
}

const EXTERNAL = {
  topology: EtcdTopology.External,
  endpoints: ENDPOINTS,
  caCertPem: "CA",
  clientCertPem: "CERT",
  clientKeyPem: "KEY",
};

describe("kubeadm configuration: every field exists in its API version", () => {
  describe("the field trees", () => {
    it("cover kubeadm v1beta2, v1beta3, v1beta4, the kubelet's and kube-proxy's configuration", () => {
      assert.deepEqual([...TREES.keys()].sort(), [
        "kubeadm.k8s.io/v1beta2",
        "kubeadm.k8s.io/v1beta3",
        "kubeadm.k8s.io/v1beta4",
        "kubelet.config.k8s.io/v1beta1",
        "kubeproxy.config.k8s.io/v1alpha1",
      ]);
    });
    for (const [apiVersion, tree] of TREES) {
      it(`${apiVersion}: says where it was read, and defines every type it names`, () => {
        assert.match(
          tree.source.read,
          /(kubernetes\/kubernetes|kubernetes\/website) \S+ at commit [0-9a-f]{40}/,
        );
        assert.deepEqual(undefinedTypes(tree), []);
      });
    }
  });

  for (const p of KUBERNETES_MINORS) {
    const version = `1.${p.minor}.3`;
    const algorithms =
      p.kubeadmApi === "v1beta4"
        ? [KeyAlgorithm.EcdsaP256, KeyAlgorithm.Rsa2048, KeyAlgorithm.Rsa4096]
        : [KeyAlgorithm.EcdsaP256, KeyAlgorithm.Rsa2048];
    it(`${version} (kubeadm ${p.kubeadmApi}): stacked and external etcd, every key algorithm, all options on`, () => {
      // The project's registry as well as a mirror: kubeadm 1.21-1.24 then get CoreDNS's repository too.
      const docs = [undefined, EXTERNAL].flatMap((etcd) =>
        algorithms.flatMap((keyAlgorithm) =>
          [undefined, "registry.example.com:5000/k8s"].flatMap((imageRepository) =>
            renderedDocuments(allOn(version, { etcd, keyAlgorithm, imageRepository })),
          ),
        ),
      );
      const kinds = new Set(docs.map((d) => `${(d as { kind: string }).kind}`));
      assert.deepEqual([...kinds].sort(), [
        "ClusterConfiguration",
        "InitConfiguration",
        "JoinConfiguration",
        "KubeProxyConfiguration",
        "KubeletConfiguration",
      ]);
      assert.deepEqual(
        docs.flatMap((d) => fieldProblems(d, TREES)),
        [],
      );
    });
  }

  describe("the check itself fails on a field of the wrong version", () => {
    /** v1beta4's documents, labelled as another kubeadm version. */
    const relabelled = (to: string) =>
      renderedDocuments(allOn("1.31.3")).map((d) => {
        const doc = d as { apiVersion: string };
        return doc.apiVersion === "kubeadm.k8s.io/v1beta4" ? { ...doc, apiVersion: to } : doc;
      });

    it("v1beta4's encryptionAlgorithm and list-shaped extra arguments in v1beta2", () => {
      const problems = relabelled("kubeadm.k8s.io/v1beta2").flatMap((d) => fieldProblems(d, TREES));
      assert.deepEqual(problems, [
        "kubeadm.k8s.io/v1beta2 InitConfiguration: nodeRegistration.kubeletExtraArgs must be map[string]string, got a list",
        "kubeadm.k8s.io/v1beta2 ClusterConfiguration: encryptionAlgorithm is not a field of ClusterConfiguration",
        "kubeadm.k8s.io/v1beta2 ClusterConfiguration: apiServer.extraArgs must be map[string]string, got a list",
        "kubeadm.k8s.io/v1beta2 ClusterConfiguration: controllerManager.extraArgs must be map[string]string, got a list",
        "kubeadm.k8s.io/v1beta2 ClusterConfiguration: scheduler.extraArgs must be map[string]string, got a list",
        "kubeadm.k8s.io/v1beta2 JoinConfiguration: nodeRegistration.kubeletExtraArgs must be map[string]string, got a list",
        "kubeadm.k8s.io/v1beta2 JoinConfiguration: nodeRegistration.kubeletExtraArgs must be map[string]string, got a list",
      ]);
    });
    it("a v1beta4-only field (timeouts) and a v1beta3-only one (skipPhases) out of their versions", () => {
      const init = (apiVersion: string, field: string, value: unknown) => ({
        apiVersion,
        kind: "InitConfiguration",
        [field]: value,
      });
      assert.deepEqual(fieldProblems(init("kubeadm.k8s.io/v1beta3", "timeouts", {}), TREES), [
        "kubeadm.k8s.io/v1beta3 InitConfiguration: timeouts is not a field of InitConfiguration",
      ]);
      assert.deepEqual(
        fieldProblems(init("kubeadm.k8s.io/v1beta2", "skipPhases", ["addon/kube-proxy"]), TREES),
        ["kubeadm.k8s.io/v1beta2 InitConfiguration: skipPhases is not a field of InitConfiguration"],
      );
      assert.deepEqual(
        fieldProblems(init("kubeadm.k8s.io/v1beta3", "skipPhases", ["addon/kube-proxy"]), TREES),
        [],
      );
    });
    it("an unknown apiVersion, kind or nested field", () => {
      assert.deepEqual(
        fieldProblems({ apiVersion: "kubeadm.k8s.io/v1beta1", kind: "InitConfiguration" }, TREES),
        ["no field tree for apiVersion kubeadm.k8s.io/v1beta1 (kind InitConfiguration)"],
      );
      assert.deepEqual(
        fieldProblems(
          {
            apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
            kind: "KubeProxyConfiguration",
            conntrack: { max: 0 },
          },
          TREES,
        ),
        [
          "kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration: conntrack.max is not a field of KubeProxyConntrackConfiguration",
        ],
      );
    });
  });
});
