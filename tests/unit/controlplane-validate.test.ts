import { strict as assert } from "node:assert";
import { InstallMethod } from "../../components/install";
import * as pulumi from "@pulumi/pulumi";
import { HostArgs } from "../../components/hosts";
import {
  CniKind,
  EtcdTopology,
  HaControlPlaneArgs,
  LeaderElectionProfile,
  SecretsEncryptionProvider,
} from "../../components/controlplane/types";
import { validateHaControlPlaneArgs } from "../../components/controlplane/validate";
import { parseKubernetesVersion } from "../../components/controlplane/versions";
import { externalEtcdEndpointProblems } from "../../components/controlplane/validateNetwork";
import { apiServerEtcdEndpoints } from "../../components/controlplane/settings";
import { KeyAlgorithm } from "../../components/pki/profiles";
import { hosts } from "./helpers/hosts";

function workers(n: number): HostArgs[] {
  return hosts(n).map((h, i) => ({ ...h, name: `w${i + 1}`, address: `10.0.1.${21 + i}` }));
}
function args(over: Partial<HaControlPlaneArgs> = {}): HaControlPlaneArgs {
  return {
    masters: hosts(3),
    endpoint: "10.0.0.10:6443",
    kubernetesVersion: "1.31.4",
    workers: workers(2),
    ...over,
  };
}
/** The validator's "today": 1.31 was supported then, so only the version tests see end-of-life warnings. */
const TODAY = new Date("2025-06-01T00:00:00Z");
function errors(a: HaControlPlaneArgs | undefined) {
  return validateHaControlPlaneArgs(a, TODAY).errors.map((e) => `${e.path}: ${e.message}`);
}
function warnings(a: HaControlPlaneArgs) {
  return validateHaControlPlaneArgs(a, TODAY).warnings.map((e) => e.message);
}
const EXTERNAL = {
  topology: EtcdTopology.External,
  endpoints: ["https://10.0.0.21:2379"],
  caCertPem: "CA",
  clientCertPem: "CERT",
  clientKeyPem: "KEY",
};

describe("HaControlPlane validation", () => {
  it("accepts 3 masters, an endpoint, a version and workers", () => {
    assert.deepEqual(validateHaControlPlaneArgs(args(), TODAY), { errors: [], warnings: [] });
  });
  it("refuses missing args", () => {
    assert.deepEqual(errors(undefined), [
      ": args must be an object with masters and kubernetesVersion, got undefined",
    ]);
  });

  describe("masters and workers", () => {
    it("refuses an empty master list and duplicate names", () => {
      assert.deepEqual(errors(args({ masters: [], endpoint: undefined })), [
        "masters: masters must list at least one host, got []",
      ]);
      const m = hosts(3);
      m[1] = { ...m[1], name: "m1" };
      assert.deepEqual(errors(args({ masters: m })), [
        'masters[1].name: masters[1].name "m1" is already used by masters[0]',
      ]);
    });
    it("warns about stacked etcd quorum with etcd's wording", () => {
      assert.deepEqual(warnings(args({ masters: hosts(4) })), [
        "masters has 4, each running a stacked etcd member and an even count: 4 members need a quorum of 3 and tolerate 1 failure, no more than 3 would; use an odd number (1, 3, 5, 7)",
      ]);
      assert.deepEqual(warnings(args({ masters: hosts(1), endpoint: undefined })), [
        "masters has 1, which runs a stacked etcd member: 1 member needs a quorum of 1 and tolerates no failure; use 3 or more for high availability",
      ]);
      assert.deepEqual(warnings(args({ masters: hosts(9) })), [
        "masters has 9, each running a stacked etcd member: 9 members need a quorum of 5 and tolerate 4 failures, but every write waits for 5 members; etcd advises at most 7",
      ]);
      assert.equal(warnings(args({ masters: hosts(2) })).length, 2);
    });
    it("with external etcd, warns only about a single API server", () => {
      assert.deepEqual(warnings(args({ masters: hosts(2), etcd: EXTERNAL })), []);
      assert.deepEqual(warnings(args({ masters: hosts(1), endpoint: undefined, etcd: EXTERNAL })), [
        "masters has 1: a single API server is not highly available; use 2 or more (etcd is external, so any count keeps quorum)",
      ]);
    });
    it("warns that without workers ordinary pods have nowhere to run", () => {
      assert.deepEqual(warnings(args({ workers: undefined })), [
        "workers is empty: the masters keep kubeadm's control-plane taint, so ordinary pods have nowhere to run until workers are added",
      ]);
    });
    it("refuses a host that is both master and worker, by name or address", () => {
      const w = workers(2);
      w[0] = { ...w[0], name: "m2" };
      w[1] = { ...w[1], address: "10.0.0.13" };
      assert.deepEqual(errors(args({ workers: w })), [
        'workers[0].name: workers[0].name "m2" is already used by masters[1]: a host is a master or a worker, not both',
        'workers[1].address: workers[1].address "10.0.0.13" is already used by masters[2]: a host is a master or a worker, not both',
      ]);
    });
    it("checks the worker list like the master list", () => {
      assert.deepEqual(errors(args({ workers: [{ ...workers(1)[0], address: "10.0.1" }] })), [
        'workers[0].address: workers[0].address must be an IPv4 or IPv6 address, got "10.0.1"',
      ]);
      assert.deepEqual(errors(args({ workers: [] })), []);
    });
  });

  describe("endpoint", () => {
    it("is required with more than one master", () => {
      assert.deepEqual(errors(args({ endpoint: undefined })), [
        'endpoint: endpoint is required with more than one master: the "host:port" of the VIP or load balancer in front of the API servers, got undefined',
      ]);
      assert.deepEqual(errors(args({ masters: hosts(1), endpoint: undefined })), []);
    });
    it("must be host:port", () => {
      for (const bad of [
        "10.0.0.10",
        "https://10.0.0.10:6443",
        "fd00::10:6443",
        "api.example.com:0",
        "API.example.com:6443",
      ]) {
        assert.deepEqual(errors(args({ endpoint: bad })), [
          `endpoint: endpoint must be "host:port" with a DNS name, an IPv4 address or an IPv6 address in brackets, and a port 1-65535, got ${JSON.stringify(bad)}`,
        ]);
      }
      assert.deepEqual(errors(args({ endpoint: "api.example.com:443" })), []);
    });
    it("warns when it is one master's own address", () => {
      assert.deepEqual(warnings(args({ endpoint: "10.0.0.12:6443" })), [
        `endpoint "10.0.0.12:6443" is masters[1]'s own address: clients lose the API whenever that master is down; use a VIP or a load balancer`,
      ]);
    });
  });

  describe("kubernetesVersion", () => {
    it("must be a release version", () => {
      for (const bad of ["1.31", "1.31.4-rc.1", "latest", undefined]) {
        assert.deepEqual(errors(args({ kubernetesVersion: bad as string })), [
          `kubernetesVersion: kubernetesVersion must be a release version such as "1.31.4" (or "v1.31.4"), got ${bad === undefined ? "undefined" : JSON.stringify(bad)}`,
        ]);
      }
      assert.deepEqual(parseKubernetesVersion("v1.32.0"), { major: 1, minor: 32, patch: 0 });
    });
    it("must be 1.20 or later (kubeadm v1beta2, v1beta3 or v1beta4)", () => {
      assert.deepEqual(errors(args({ kubernetesVersion: "1.19.16" })), [
        `kubernetesVersion: kubernetesVersion must be 1.20 or later (hakube renders kubeadm's v1beta2, v1beta3 and v1beta4 configuration, for 1.20 on), got "1.19.16"`,
      ]);
      assert.deepEqual(errors(args({ kubernetesVersion: "1.20.2" })), []);
      assert.equal(errors(args({ kubernetesVersion: "2.0.0" })).length, 1);
    });
    it("warns beyond the newest minor hakube knows", () => {
      assert.deepEqual(warnings(args({ kubernetesVersion: "1.36.0" })), [
        `kubernetesVersion "1.36.0" is newer than 1.35, the newest minor hakube was written against; it is configured as 1.35 (kubeadm v1beta4): check that kubeadm still reads it`,
      ]);
      assert.deepEqual(warnings(args({ kubernetesVersion: "v1.35.2" })), []);
    });
    it("warns, without refusing, past the minor's end of life (by the date it is validated on)", () => {
      const said = (version: string, day: string) =>
        validateHaControlPlaneArgs(args({ kubernetesVersion: version }), new Date(day));
      assert.deepEqual(said("1.20.2", "2026-12-07"), {
        errors: [],
        warnings: [
          {
            path: "kubernetesVersion",
            message:
              'kubernetesVersion "1.20.2": Kubernetes 1.20 reached its end of life on 2022-02-28 and gets no security fixes any more; plan an upgrade to a supported minor',
          },
        ],
      });
      // 1.31 ended on 2025-11-11 (kubernetes/website data/releases/eol.yaml), not on its planned 2025-10-28.
      assert.deepEqual(said("1.31.4", "2025-11-11").warnings, []);
      assert.equal(said("1.31.4", "2025-11-12").warnings.length, 1);
      assert.deepEqual(said("1.35.0", "2026-12-07").warnings, []);
    });
  });

  describe("subnets", () => {
    it("must be CIDR blocks without host bits", () => {
      assert.deepEqual(errors(args({ podSubnet: "10.244.0.1/16" })), [
        'podSubnet: podSubnet must be a CIDR block such as "10.244.0.0/16" (a network address, no host bits set), got "10.244.0.1/16"',
      ]);
      assert.deepEqual(errors(args({ serviceSubnet: "10.96.0.0" })), [
        'serviceSubnet: serviceSubnet must be a CIDR block such as "10.96.0.0/12" (a network address, no host bits set), got "10.96.0.0"',
      ]);
    });
    it("must not overlap each other", () => {
      assert.deepEqual(errors(args({ podSubnet: "10.96.0.0/16" })), [
        'podSubnet: podSubnet "10.96.0.0/16" overlaps serviceSubnet "10.96.0.0/12"',
      ]);
    });
    it("must not contain a master, a worker or the endpoint", () => {
      assert.deepEqual(errors(args({ podSubnet: "10.0.0.0/16" })), [
        'podSubnet: podSubnet "10.0.0.0/16" contains masters[0].address "10.0.0.11": pod and Service addresses must not collide with the hosts\' network',
        'podSubnet: podSubnet "10.0.0.0/16" contains masters[1].address "10.0.0.12": pod and Service addresses must not collide with the hosts\' network',
        'podSubnet: podSubnet "10.0.0.0/16" contains masters[2].address "10.0.0.13": pod and Service addresses must not collide with the hosts\' network',
        'podSubnet: podSubnet "10.0.0.0/16" contains workers[0].address "10.0.1.21": pod and Service addresses must not collide with the hosts\' network',
        'podSubnet: podSubnet "10.0.0.0/16" contains workers[1].address "10.0.1.22": pod and Service addresses must not collide with the hosts\' network',
        'podSubnet: podSubnet "10.0.0.0/16" contains the endpoint "10.0.0.10": pod and Service addresses must not collide with the hosts\' network',
      ]);
      assert.deepEqual(errors(args({ serviceSubnet: "10.0.1.0/24" })), [
        'serviceSubnet: serviceSubnet "10.0.1.0/24" contains workers[0].address "10.0.1.21": pod and Service addresses must not collide with the hosts\' network',
        'serviceSubnet: serviceSubnet "10.0.1.0/24" contains workers[1].address "10.0.1.22": pod and Service addresses must not collide with the hosts\' network',
      ]);
    });
    it("keeps the pod subnet within 16 bits of each node's /24 (IPv4) or /64 (IPv6)", () => {
      assert.deepEqual(errors(args({ podSubnet: "10.244.0.0/25" })), [
        'podSubnet: podSubnet must be /8 to /24 for IPv4: every node gets a /24 from it and kubeadm allows at most 16 bits between the two, got "10.244.0.0/25"',
      ]);
      assert.equal(errors(args({ podSubnet: "12.0.0.0/7" })).length, 1);
    });
    it("keeps the service subnet between /12 and /28 (IPv4)", () => {
      assert.deepEqual(errors(args({ serviceSubnet: "10.96.0.0/11" })), [
        `serviceSubnet: serviceSubnet must be /12 to /28 for IPv4 (kubeadm's and kube-apiserver's limits), got "10.96.0.0/11"`,
      ]);
      assert.equal(errors(args({ serviceSubnet: "10.96.0.0/29" })).length, 1);
    });
    it("uses the masters' IP family", () => {
      assert.deepEqual(errors(args({ serviceSubnet: "fd00:10:96::/112", podSubnet: "fd00:10:244::/56" })), [
        "serviceSubnet: serviceSubnet must be of the masters' IP family (IPv4): the API server's Service address comes from it, got \"fd00:10:96::/112\"",
        'podSubnet: podSubnet must be of the masters\' IP family (IPv4), got "fd00:10:244::/56"',
      ]);
      const v6 = hosts(1).map((h) => ({ ...h, address: "fd00::11" }));
      assert.deepEqual(
        errors({
          masters: v6,
          kubernetesVersion: "1.31.4",
          serviceSubnet: "fd00:10:96::/108",
          podSubnet: "fd00:10:244::/48",
        }),
        [],
      );
      assert.deepEqual(
        errors({
          masters: v6,
          kubernetesVersion: "1.31.4",
          serviceSubnet: "fd00:10:96::/104",
          podSubnet: "fd00:10:244::/47",
        }),
        [
          `serviceSubnet: serviceSubnet must be /108 to /124 for IPv6 (kubeadm's and kube-apiserver's limits), got "fd00:10:96::/104"`,
          'podSubnet: podSubnet must be /48 to /64 for IPv6: every node gets a /64 from it and kubeadm allows at most 16 bits between the two, got "fd00:10:244::/47"',
        ],
      );
    });
  });

  describe("etcd", () => {
    it("refuses an unknown topology", () => {
      assert.deepEqual(errors(args({ etcd: { topology: "kubeadm" as EtcdTopology } })), [
        'etcd.topology: etcd.topology must be one of stacked, external, got "kubeadm"',
      ]);
    });
    it("external needs endpoints, the CA and a client certificate and key", () => {
      assert.deepEqual(errors(args({ etcd: { topology: EtcdTopology.External } })), [
        'etcd.endpoints: etcd.endpoints is required with etcd.topology "external": the etcd client URLs (EtcdCluster.clientEndpoints), got undefined',
        'etcd.caCertPem: etcd.caCertPem is required with etcd.topology "external", got undefined',
        'etcd.clientCertPem: etcd.clientCertPem is required with etcd.topology "external", got undefined',
        'etcd.clientKeyPem: etcd.clientKeyPem is required with etcd.topology "external", got undefined',
      ]);
      assert.deepEqual(errors(args({ etcd: EXTERNAL })), []);
    });
    it("checks plain external endpoints now and Output ones when they resolve", () => {
      assert.deepEqual(
        errors(args({ etcd: { ...EXTERNAL, endpoints: ["http://10.0.0.21:2379", "https://10.0.0.22"] } })),
        [
          'etcd.endpoints[0]: etcd.endpoints[0] must be an https URL with a host and a port and nothing after them, such as "https://10.0.0.21:2379", got "http://10.0.0.21:2379"',
          'etcd.endpoints[1]: etcd.endpoints[1] must be an https URL with a host and a port and nothing after them, such as "https://10.0.0.21:2379", got "https://10.0.0.22"',
        ],
      );
      assert.deepEqual(errors(args({ etcd: { ...EXTERNAL, endpoints: pulumi.output(["bad"]) } })), []);
      assert.deepEqual(externalEtcdEndpointProblems([]), [
        { path: "etcd.endpoints", message: "etcd.endpoints must list at least one URL, got []" },
      ]);
      assert.deepEqual(externalEtcdEndpointProblems(["https://[fd00::21]:2379"]), []);
    });
    it("colocated: each API server uses its local member, on the members' one port", () => {
      assert.deepEqual(errors(args({ etcd: { ...EXTERNAL, colocated: true } })), []);
      assert.deepEqual(
        errors(
          args({
            etcd: {
              ...EXTERNAL,
              colocated: true,
              endpoints: ["https://10.0.0.21:2379", "https://10.0.0.22:2479"],
            },
          }),
        ),
        [
          'etcd.endpoints: etcd.colocated needs every member on one client port (each API server uses https://127.0.0.1:<port>), got ["https://10.0.0.21:2379", "https://10.0.0.22:2479"]',
        ],
      );
      assert.deepEqual(errors(args({ etcd: { colocated: true } })), [
        'etcd.colocated: etcd.colocated only applies to etcd.topology "external" (stacked etcd is always local), got it with "stacked"',
      ]);
      assert.deepEqual(errors(args({ etcd: { ...EXTERNAL, colocated: "yes" as unknown as boolean } })), [
        'etcd.colocated: etcd.colocated must be true or false, got "yes"',
      ]);
      const three = ["https://10.0.0.21:2379", "https://10.0.0.22:2379", "https://10.0.0.23:2379"];
      assert.deepEqual(apiServerEtcdEndpoints(three, true), ["https://127.0.0.1:2379"]);
      assert.deepEqual(apiServerEtcdEndpoints(three, false), three);
    });
    it("stacked takes no external settings", () => {
      assert.deepEqual(errors(args({ etcd: { endpoints: ["https://10.0.0.21:2379"] } })), [
        'etcd.endpoints: etcd.endpoints only applies to etcd.topology "external", got it with "stacked"',
      ]);
    });
  });

  describe("apiServer", () => {
    it("extra SANs are IPs or DNS names", () => {
      assert.deepEqual(
        errors(
          args({
            apiServer: {
              extraSans: ["api.example.com", "*.example.com", "fd00::1", "bad name", "UPPER.example"],
            },
          }),
        ),
        [
          'apiServer.extraSans[3]: apiServer.extraSans[3] must be an IP address or a DNS name (lower case; a wildcard as "*.example.com"), got "bad name"',
          'apiServer.extraSans[4]: apiServer.extraSans[4] must be an IP address or a DNS name (lower case; a wildcard as "*.example.com"), got "UPPER.example"',
        ],
      );
    });
    it("bindPort is a port", () => {
      assert.deepEqual(errors(args({ apiServer: { bindPort: 0 } })), [
        "apiServer.bindPort: apiServer.bindPort must be a port number 1-65535, got 0",
      ]);
    });
    it("OIDC needs an https issuer and a client id", () => {
      assert.deepEqual(
        errors(args({ apiServer: { oidc: { issuerUrl: "http://login.example.com", clientId: "" } } })),
        [
          'apiServer.oidc.issuerUrl: apiServer.oidc.issuerUrl must be an https URL (kube-apiserver accepts no other), got "http://login.example.com"',
          'apiServer.oidc.clientId: apiServer.oidc.clientId must be a non-empty string without spaces, quotes or backslashes, got ""',
        ],
      );
      assert.deepEqual(
        errors(
          args({
            apiServer: { oidc: { issuerUrl: "https://x.example", clientId: "k", groupsClaim: "a b" } },
          }),
        ),
        [
          'apiServer.oidc.groupsClaim: apiServer.oidc.groupsClaim must be a non-empty string without spaces, quotes or backslashes, got "a b"',
        ],
      );
    });
    it("audit settings: a Policy, positive numbers, nothing when it is off", () => {
      assert.deepEqual(errors(args({ apiServer: { audit: { policy: "rules: []" } } })), [
        'apiServer.audit.policy: apiServer.audit.policy must be an audit.k8s.io/v1 Policy in YAML (with a line "kind: Policy"), got "rules: []"',
      ]);
      assert.deepEqual(errors(args({ apiServer: { audit: { maxAgeDays: 0 } } })), [
        "apiServer.audit.maxAgeDays: apiServer.audit.maxAgeDays must be a whole number, at least 1, got 0",
      ]);
      assert.deepEqual(errors(args({ apiServer: { audit: { enabled: false, maxBackups: 3 } } })), [
        "apiServer.audit.maxBackups: apiServer.audit.maxBackups only applies when the audit log is enabled, got it with apiServer.audit.enabled false",
      ]);
    });
    it("encryption: a known provider, none when it is off", () => {
      assert.deepEqual(
        errors(
          args({ apiServer: { secretsEncryption: { provider: "aesgcm" as SecretsEncryptionProvider } } }),
        ),
        [
          'apiServer.secretsEncryption.provider: apiServer.secretsEncryption.provider must be one of secretbox, aescbc, got "aesgcm"',
        ],
      );
      assert.deepEqual(
        errors(
          args({
            apiServer: { secretsEncryption: { enabled: false, provider: SecretsEncryptionProvider.Aescbc } },
          }),
        ),
        [
          "apiServer.secretsEncryption.provider: apiServer.secretsEncryption.provider only applies when encryption is enabled, got it with apiServer.secretsEncryption.enabled false",
        ],
      );
    });
    it("extra flags: names only, not hakube's, no line breaks", () => {
      assert.deepEqual(errors(args({ apiServer: { extraArgs: { "encryption-provider-config": "/x" } } })), [
        'apiServer.extraArgs["encryption-provider-config"]: apiServer.extraArgs may not set "encryption-provider-config": hakube manages it (see ApiServerArgs)',
      ]);
      assert.deepEqual(errors(args({ apiServer: { extraArgs: { "anonymous-auth": "false" } } })), [
        `apiServer.extraArgs["anonymous-auth"]: apiServer.extraArgs may not set "anonymous-auth" to "false": the readiness gate and load balancers' health checks read /readyz without credentials`,
      ]);
      assert.deepEqual(errors(args({ apiServer: { extraArgs: { "--v": "2" } } })), [
        'apiServer.extraArgs["--v"]: apiServer.extraArgs keys must be kube-apiserver flag names without dashes in front, such as "default-not-ready-toleration-seconds", got "--v"',
      ]);
      assert.deepEqual(errors(args({ apiServer: { extraArgs: { v: "2\n" } } })), [
        'apiServer.extraArgs["v"]: apiServer.extraArgs["v"] must be a string without line breaks, got "2\\n"',
      ]);
    });
  });

  describe("install, keys, the rest", () => {
    it("install method and repository", () => {
      assert.deepEqual(errors(args({ install: { method: "binary" as InstallMethod } })), [
        'install.method: install.method must be one of package, release, preinstalled, got "binary"',
      ]);
      assert.deepEqual(
        errors(
          args({
            install: {
              method: InstallMethod.Preinstalled,
              repositoryUrl: "https://mirror.example",
            },
          }),
        ),
        [
          'install.repositoryUrl: install.repositoryUrl only applies to install.method "package", got it with "preinstalled"',
        ],
      );
      assert.deepEqual(errors(args({ install: { repositoryUrl: "ftp://mirror.example" } })), [
        'install.repositoryUrl: install.repositoryUrl must be an http(s) URL without spaces, quotes or backslashes, got "ftp://mirror.example"',
      ]);
    });
    it("release install: base URL and a sha256 per binary", () => {
      const sha = { kubeadm: "a".repeat(64), kubelet: "b".repeat(64), kubectl: "c".repeat(64) };
      const release = (over: object) =>
        errors(args({ install: { method: InstallMethod.Release, sha256: sha, ...over } }));
      assert.deepEqual(release({}), []);
      assert.deepEqual(release({ baseUrl: "http://10.77.0.1:8780/kubernetes" }), []);
      assert.deepEqual(release({ sha256: undefined }), [
        'install.sha256: install.sha256 is required with install.method "release": { kubeadm, kubelet, kubectl }, the sha256 of each binary of kubernetesVersion (published beside it as <binary>.sha256), got undefined',
      ]);
      assert.deepEqual(release({ sha256: { ...sha, kubelet: "B".repeat(64), crictl: "c".repeat(64) } }), [
        `install.sha256.kubelet: install.sha256.kubelet must be the sha256 of kubelet as 64 lower-case hex digits, got "${"B".repeat(64)}"`,
        'install.sha256.crictl: install.sha256 has no field "crictl": it takes kubeadm, kubelet and kubectl',
      ]);
      assert.deepEqual(release({ baseUrl: "dl.k8s.io" }), [
        'install.baseUrl: install.baseUrl must be an http(s) URL without spaces, quotes or backslashes, got "dl.k8s.io"',
      ]);
      assert.deepEqual(errors(args({ install: { baseUrl: "https://dl.k8s.io/release", sha256: sha } })), [
        'install.baseUrl: install.baseUrl only applies to install.method "release", got it with "package"',
        'install.sha256: install.sha256 only applies to install.method "release", got it with "package"',
      ]);
    });
    it("leader election profile", () => {
      assert.deepEqual(errors(args({ leaderElection: { profile: LeaderElectionProfile.Fast } })), []);
      assert.deepEqual(errors(args({ leaderElection: { profile: "quick" as LeaderElectionProfile } })), [
        'leaderElection.profile: leaderElection.profile must be one of default, fast, got "quick"',
      ]);
    });
    it("image repository and nodes in containers", () => {
      assert.deepEqual(errors(args({ imageRepository: "10.77.0.1:5000/k8s", nodesInContainers: true })), []);
      assert.deepEqual(errors(args({ imageRepository: "https://registry.example" })), [
        'imageRepository: imageRepository must be a registry host with an optional port and path, such as "registry.example.com:5000/k8s" (no scheme), got "https://registry.example"',
      ]);
      assert.deepEqual(errors(args({ nodesInContainers: "yes" as unknown as boolean })), [
        'nodesInContainers: nodesInContainers must be true or false, got "yes"',
      ]);
    });
    it("key algorithms before 1.31: RSA-2048 or ECDSA P-256 only (no encryptionAlgorithm yet)", () => {
      assert.deepEqual(errors(args({ kubernetesVersion: "1.20.2", keyAlgorithm: KeyAlgorithm.Rsa2048 })), []);
      assert.deepEqual(
        errors(args({ kubernetesVersion: "1.20.2", keyAlgorithm: KeyAlgorithm.EcdsaP256 })),
        [],
      );
      assert.deepEqual(errors(args({ kubernetesVersion: "1.30.1", keyAlgorithm: KeyAlgorithm.Rsa4096 })), [
        `keyAlgorithm: keyAlgorithm RSA_4096 needs kubernetesVersion 1.31 or later (kubeadm's encryptionAlgorithm); before, kubeadm makes RSA-2048 or, with its PublicKeysECDSA feature gate, ECDSA P-256 keys, got "1.30.1"`,
      ]);
      assert.deepEqual(
        errors(args({ kubernetesVersion: "1.20.2", serviceAccountKeyAlgorithm: KeyAlgorithm.Rsa4096 })),
        [],
      );
    });
    it("key algorithms: RSA or ECDSA, P-384 from 1.34", () => {
      assert.deepEqual(errors(args({ keyAlgorithm: KeyAlgorithm.Ed25519 })), [
        'keyAlgorithm: keyAlgorithm must be one of ECDSA_P256, ECDSA_P384, RSA_2048, RSA_3072, RSA_4096 (kubeadm and kube-apiserver take RSA or ECDSA keys), got "ED25519"',
      ]);
      assert.deepEqual(errors(args({ serviceAccountKeyAlgorithm: KeyAlgorithm.EcdsaP384 })), [
        'serviceAccountKeyAlgorithm: serviceAccountKeyAlgorithm ECDSA_P384 needs kubernetesVersion 1.34 or later (kubeadm\'s encryptionAlgorithm "ECDSA-P384"), got "1.31.4"',
      ]);
      assert.deepEqual(
        errors(args({ keyAlgorithm: KeyAlgorithm.EcdsaP384, kubernetesVersion: "1.34.0" })),
        [],
      );
    });
    it("clusterName, ignorePreflightErrors, readyTimeoutSeconds", () => {
      assert.deepEqual(errors(args({ clusterName: "Prod" })), [
        `clusterName: clusterName must be a DNS name (lower-case letters, digits, '-' and '.'), got "Prod"`,
      ]);
      assert.deepEqual(errors(args({ ignorePreflightErrors: ["NumCPU", "a b"] })), [
        'ignorePreflightErrors[1]: ignorePreflightErrors[1] must be a kubeadm preflight check name such as "NumCPU", or "all", got "a b"',
      ]);
      assert.deepEqual(errors(args({ readyTimeoutSeconds: 5 })), [
        "readyTimeoutSeconds: readyTimeoutSeconds must be a whole number of seconds, at least 30, got 5",
      ]);
    });
    it("cni: a known kind and a pinned version", () => {
      assert.deepEqual(errors(args({ cni: { kind: "flannel" as CniKind, version: "^1.16" } })), [
        'cni.kind: cni.kind must be one of cilium, calico, got "flannel"',
        'cni.version: cni.version must pin a chart version such as "1.16.5" (no ranges), got "^1.16"',
      ]);
      assert.deepEqual(errors(args({ cni: { kind: CniKind.Calico, version: "v3.29.1" } })), []);
    });
  });

  it("reports every problem at once", () => {
    assert.equal(
      errors(args({ endpoint: "x", kubernetesVersion: "1.2", podSubnet: "x", readyTimeoutSeconds: 1 }))
        .length,
      4,
    );
  });
});
