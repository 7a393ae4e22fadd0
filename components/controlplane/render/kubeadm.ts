/**
 * kubeadm's configuration in the API version the Kubernetes minor's kubeadm reads (`s.kubeadmApi`, from
 * versions.ts): v1beta2 for 1.20-1.21, v1beta3 for 1.22-1.30, v1beta4 from 1.31. The component calls only
 * this file; each version's renderer is render/kubeadm.<version>.ts. Pure: no Pulumi import.
 */
import { ControlPlaneSettings, NodeSettings } from "../types";
import type { KubeadmApiVersion } from "../versions";
import { KubeadmRenderer } from "./kubeadm.documents";
import { DiscoveryParams } from "./kubeadm.model";
import { KUBEADM_V1BETA2 } from "./kubeadm.v1beta2";
import { KUBEADM_V1BETA3 } from "./kubeadm.v1beta3";
import { KUBEADM_V1BETA4 } from "./kubeadm.v1beta4";

const RENDERERS: Record<KubeadmApiVersion, KubeadmRenderer<unknown, unknown>> = {
  v1beta2: KUBEADM_V1BETA2,
  v1beta3: KUBEADM_V1BETA3,
  v1beta4: KUBEADM_V1BETA4,
};

/** The renderer of a kubeadm API version. */
export function kubeadmRendererFor(api: KubeadmApiVersion): KubeadmRenderer<unknown, unknown> {
  return RENDERERS[api];
}

/** The first master's configuration file, in the settings' kubeadm API version. */
export function renderInitConfig(
  s: ControlPlaneSettings,
  node: NodeSettings,
  token: string,
  etcdEndpoints?: readonly string[],
): string {
  return kubeadmRendererFor(s.kubeadmApi).renderInitConfig(s, node, token, etcdEndpoints);
}

/** A joining node's configuration file, in the settings' kubeadm API version. */
export function renderJoinConfig(
  s: ControlPlaneSettings,
  node: NodeSettings,
  discovery: DiscoveryParams,
  controlPlane: boolean,
): string {
  return kubeadmRendererFor(s.kubeadmApi).renderJoinConfig(s, node, discovery, controlPlane);
}
