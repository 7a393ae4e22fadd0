/**
 * kubeadm's configuration, API version kubeadm.k8s.io/v1beta4: what kubeadm 1.31 and later read. Its types:
 * kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/ (tests/fixtures/kubeadm-api/v1beta4.json).
 * What it writes differently from v1beta2 and v1beta3:
 * - extra arguments are a list of { name, value } (duplicates allowed);
 * - the key algorithm is ClusterConfiguration.encryptionAlgorithm ("ECDSA-P256", "RSA-2048", ...), not a
 *   feature gate.
 * v1beta4 also moved the join and control-plane timeouts into `timeouts`; hakube writes none of them.
 * Pure: no Pulumi import.
 */
import { kubeadmRenderer } from "./kubeadm.documents";
import { apiServerArgs, ArgPairs } from "./kubeadm.model";
import { ControlPlaneSettings } from "../types";

export { goDuration } from "./kubeadm.documents";
export type { DiscoveryParams } from "./kubeadm.model";

/** Extra arguments as v1beta4 writes them. */
export type ArgList = Array<{ name: string; value: string }>;

/** The key algorithm as v1beta4 writes it. */
export type KeyAlgorithmField = { encryptionAlgorithm: string };

/** Extra arguments as a list, in the given order. */
export function argsAsList(pairs: ArgPairs): ArgList {
  return pairs.map(([name, value]) => ({ name, value }));
}

/** kubeadm.k8s.io/v1beta4 documents (`build*`, typed) and files (`render*`). */
export const KUBEADM_V1BETA4 = kubeadmRenderer({
  apiVersion: "kubeadm.k8s.io/v1beta4",
  args: argsAsList,
  keyAlgorithm: (name): KeyAlgorithmField => ({ encryptionAlgorithm: name }),
});

/** kube-apiserver's flags as v1beta4 writes them: hakube's options, then `apiServer.extraArgs` (sorted). */
export function apiServerExtraArgs(s: ControlPlaneSettings): ArgList {
  return argsAsList(apiServerArgs(s));
}

// The v1beta4 renderer's functions under the names they had before the other API versions came.
/** `KubeadmRenderer.buildInitConfiguration` of {@link KUBEADM_V1BETA4}. */
export const buildInitConfigurationV1beta4 = KUBEADM_V1BETA4.buildInitConfiguration;
/** `KubeadmRenderer.buildClusterConfiguration` of {@link KUBEADM_V1BETA4}. */
export const buildClusterConfigurationV1beta4 = KUBEADM_V1BETA4.buildClusterConfiguration;
/** `KubeadmRenderer.buildJoinConfiguration` of {@link KUBEADM_V1BETA4}. */
export const buildJoinConfigurationV1beta4 = KUBEADM_V1BETA4.buildJoinConfiguration;
/** `KubeadmRenderer.renderInitConfig` of {@link KUBEADM_V1BETA4}. */
export const renderInitConfigV1beta4 = KUBEADM_V1BETA4.renderInitConfig;
/** `KubeadmRenderer.renderJoinConfig` of {@link KUBEADM_V1BETA4}. */
export const renderJoinConfigV1beta4 = KUBEADM_V1BETA4.renderJoinConfig;
