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
   * The newest kubeadm configuration API that minor's kubeadm reads: v1beta2 up to 1.21 (v1beta3 came in
   * 1.22), v1beta3 up to 1.30, v1beta4 from 1.31 (kubeadm's API changelogs).
   */
  kubeadmApi: KubeadmApiVersion;
  /**
   * The kubelet's cgroup driver when kubeadm writes its configuration without one: cgroupfs up to 1.21,
   * systemd from 1.22 (kubeadm 1.22 changelog). hakube writes it explicitly, and containerd's matches.
   */
  cgroupDriver: CgroupDriver;
  /** The pause (sandbox) image tag that minor's kubeadm pulls (kubeadm's constants.PauseVersion). */
  pauseTag: string;
  /** kubeadm runs the crictl command line for preflight, image pulls and reset before 1.31, which talks CRI itself. */
  kubeadmNeedsCrictl: boolean;
  /** The end of the minor's upstream support (kubernetes.io/releases, "End of Life"), YYYY-MM-DD. */
  endOfLife: string;
}

/** The minors hakube renders configuration for, oldest first. */
export const KUBERNETES_MINORS: readonly KubernetesMinorProfile[] = [
  { minor: 20, kubeadmApi: "v1beta2", cgroupDriver: "cgroupfs", pauseTag: "3.2", endOfLife: "2022-02-28" },
  { minor: 21, kubeadmApi: "v1beta2", cgroupDriver: "cgroupfs", pauseTag: "3.4.1", endOfLife: "2022-06-28" },
  { minor: 22, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.5", endOfLife: "2022-10-28" },
  { minor: 23, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.6", endOfLife: "2023-02-28" },
  { minor: 24, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.7", endOfLife: "2023-07-28" },
  { minor: 25, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.8", endOfLife: "2023-10-27" },
  { minor: 26, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.9", endOfLife: "2024-02-28" },
  { minor: 27, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.9", endOfLife: "2024-06-28" },
  { minor: 28, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.9", endOfLife: "2024-10-28" },
  { minor: 29, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.9", endOfLife: "2025-02-28" },
  { minor: 30, kubeadmApi: "v1beta3", cgroupDriver: "systemd", pauseTag: "3.9", endOfLife: "2025-06-28" },
  { minor: 31, kubeadmApi: "v1beta4", cgroupDriver: "systemd", pauseTag: "3.10", endOfLife: "2025-10-28" },
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
