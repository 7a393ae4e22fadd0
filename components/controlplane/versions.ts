/**
 * What changes with the Kubernetes minor release: kubeadm's configuration API, the kubelet's cgroup driver
 * default, the pause image, whether kubeadm needs crictl, and the end of the minor's support. One table,
 * read by the settings and by the validator. Pure: no Pulumi import.
 */

/** A kubeadm configuration API version; each has its own renderer (render/kubeadm.<version>.ts). */
export type KubeadmApiVersion = "v1beta2" | "v1beta3" | "v1beta4";

/** The kubelet's (and containerd's) cgroup driver. */
export type CgroupDriver = "cgroupfs" | "systemd";

/** Everything hakube does differently for one Kubernetes minor. */
export interface KubernetesMinorProfile {
  /** 20 for 1.20 */
  minor: number;
  /**
   * The newest kubeadm configuration API that minor's kubeadm reads: v1beta2 up to 1.21, v1beta3 from 1.22,
   * v1beta4 from 1.31. Sources: the v1beta3 reference ("kubeadm v1.22.x and newer ... can be used to migrate
   * v1beta2 to v1beta3", kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta3/) and the v1beta4
   * reference, whose first version is the 1.31 documentation (kubernetes/website
   * content/en/docs/reference/config-api/kubeadm-config.v1beta4.md at f9610cd94d4e76f10730ea4326ea7e709ca9901b).
   */
  kubeadmApi: KubeadmApiVersion;
  /**
   * The kubelet's cgroup driver when `kubeadm init` writes its configuration without one: cgroupfs up to 1.20,
   * systemd from 1.21. kubernetes/kubernetes CHANGELOG/CHANGELOG-1.21.md, Urgent Upgrade Notes: "Kubeadm:
   * during 'init' an empty cgroupDriver value in the KubeletConfiguration is now always set to 'systemd'"
   * (#99471); 1.22 extended it to `kubeadm upgrade` (kubernetes/kubernetes#102133), which hakube does not
   * run. hakube writes the driver explicitly, and containerd's matches.
   */
  cgroupDriver: CgroupDriver;
  /**
   * The pause (sandbox) image tag that minor's kubeadm pulls (kubeadm's constants.PauseVersion), as
   * kubernetes/minikube pkg/minikube/constants/constants_kubeadm_images.go records it per release
   * (commits 006286b09bed057df735f2b342ecde9427f201ec and 2ed9bcfcb2c2982827440b704d8a9ab7bdda9c52: 3.2 for
   * 1.20, 3.4.1 for 1.21.x, 3.5, 3.6, 3.7, 3.8 for 1.22-1.25, 3.9 for 1.26-1.30, 3.10 for 1.31 and the
   * 1.32 pre-releases); 3.10.1 from 1.34 (kubernetes/kubernetes#130713, as kubernetes-sigs/kubespray#12827
   * cites it).
   */
  pauseTag: string;
  /**
   * kubeadm shells out to the crictl binary (preflight, image pulls, reset) before 1.31. From 1.31 it talks
   * CRI through the cri-client library (kubernetes/kubernetes#124685, tracked in kubernetes/kubeadm#3064;
   * 1.31 still warns when crictl is missing, 1.32 no longer does, #126596).
   */
  kubeadmNeedsCrictl: boolean;
  /**
   * The end of the minor's upstream support, YYYY-MM-DD: the date it reached, for ended minors
   * (kubernetes/website data/releases/eol.yaml at 0637786b3e0a896fabe197d29682f2bb688074a6, through 1.31), else
   * the planned one (kubernetes.io/releases/1.3x, "End Of Life Date").
   */
  endOfLife: string;
}

/** The minors hakube renders configuration for, oldest first. */
export const KUBERNETES_MINORS: readonly KubernetesMinorProfile[] = [
  { minor: 20, kubeadmApi: "v1beta2", cgroupDriver: "cgroupfs", pauseTag: "3.2", endOfLife: "2022-02-28" },
  { minor: 21, kubeadmApi: "v1beta2", cgroupDriver: "systemd", pauseTag: "3.4.1", endOfLife: "2022-06-28" },
  { minor: 22, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.5", endOfLife: "2022-12-08" },
  { minor: 23, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.6", endOfLife: "2023-02-28" },
  { minor: 24, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.7", endOfLife: "2023-07-28" },
  { minor: 25, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.8", endOfLife: "2023-10-28" },
  { minor: 26, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.9", endOfLife: "2024-02-28" },
  { minor: 27, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.9", endOfLife: "2024-07-16" },
  { minor: 28, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.9", endOfLife: "2024-10-22" },
  { minor: 29, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.9", endOfLife: "2025-02-28" },
  { minor: 30, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.9", endOfLife: "2025-07-15" },
  { minor: 31, kubeadmApi: "v1beta4", cgroupDriver: "systemd", pauseTag: "3.10", endOfLife: "2025-11-11" },
  // 1.32 to 1.35: the planned dates (kubernetes.io/releases/1.3x); 1.32's actual date was not in the sources read.
  { minor: 32, kubeadmApi: "v1beta4", cgroupDriver: "systemd", pauseTag: "3.10", endOfLife: "2026-02-28" },
  { minor: 33, kubeadmApi: "v1beta4", cgroupDriver: "systemd", pauseTag: "3.10", endOfLife: "2026-06-28" },
  { minor: 34, kubeadmApi: "v1beta4", cgroupDriver: "systemd", pauseTag: "3.10.1", endOfLife: "2026-10-27" },
  { minor: 35, kubeadmApi: "v1beta4", cgroupDriver: "systemd", pauseTag: "3.10.1", endOfLife: "2027-02-28" },
].map((p) => ({ ...p, kubeadmNeedsCrictl: p.minor < 31 }) as KubernetesMinorProfile);

/** The oldest minor hakube renders configuration for. */
export const MIN_KUBERNETES_MINOR = KUBERNETES_MINORS[0].minor;
/**
 * The newest minor hakube was written against. Newer minors are accepted with a warning and treated as
 * this one (kubeadm reads v1beta4 until a later API replaces it).
 */
export const MAX_KNOWN_KUBERNETES_MINOR = KUBERNETES_MINORS[KUBERNETES_MINORS.length - 1].minor;

/** The profile of a 1.x minor: the newest known one for newer minors, undefined below the oldest. */
export function minorProfile(minor: number): KubernetesMinorProfile | undefined {
  if (minor < MIN_KUBERNETES_MINOR) return undefined;
  return KUBERNETES_MINORS.find((p) => p.minor === minor) ?? KUBERNETES_MINORS[KUBERNETES_MINORS.length - 1];
}

/** True if the minor's upstream support ended before `today` (YYYY-MM-DD comparison). */
export function isPastEndOfLife(profile: KubernetesMinorProfile, today: Date): boolean {
  return profile.endOfLife < today.toISOString().slice(0, 10);
}

/**
 * True if kubeadm of this release, given ClusterConfiguration.imageRepository "registry.k8s.io" written out,
 * must also be given CoreDNS's repository (dns.imageRepository "registry.k8s.io/coredns") to find CoreDNS.
 * kubeadm 1.21.2 to 1.24 look for CoreDNS at `<imageRepository>/coredns/coredns` only when imageRepository is
 * their built-in k8s.gcr.io, and at `<imageRepository>/coredns` otherwise (kubernetes/kubeadm#2501, the rule
 * since kubernetes/kubernetes#102502 in 1.21.2); `registry.k8s.io/coredns:v1.8.x` does not exist
 * (kubernetes/kubeadm#2761). 1.20 needs nothing (CoreDNS 1.7.0 is `registry.k8s.io/coredns:1.7.0`), nor do
 * 1.21.0 and 1.21.1 (they put coredns/coredns under any repository), nor 1.25 and later (their built-in
 * imageRepository is registry.k8s.io itself).
 */
export function kubeadmNeedsCorednsRepository(minor: number, patch: number): boolean {
  return minor >= 21 && minor <= 24 && !(minor === 21 && patch < 2);
}

/** Parse "1.31.4" or "v1.31.4"; undefined for anything else (pre-releases included). */
export function parseKubernetesVersion(
  v: unknown,
): { major: number; minor: number; patch: number } | undefined {
  if (typeof v !== "string") return undefined;
  const m = /^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/.exec(v);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}
