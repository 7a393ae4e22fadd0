/**
 * kubeadm's configuration, API version kubeadm.k8s.io/v1beta2: what kubeadm 1.20 and 1.21 read (v1beta3
 * replaces it from 1.22). Its types: kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm/v1beta2/types.go
 * (tests/fixtures/kubeadm-api/v1beta2.json). What it writes differently from v1beta4:
 * - extra arguments (the control-plane components' `extraArgs`, `nodeRegistration.kubeletExtraArgs`) are a
 *   map of flag to value, so a flag can be given once only;
 * - there is no `encryptionAlgorithm`: kubeadm makes RSA-2048 keys, or ECDSA P-256 keys with its alpha
 *   feature gate PublicKeysECDSA (ClusterConfiguration.featureGates; older than 1.20). Other
 *   algorithms need v1beta4 (validate.ts refuses them before 1.31).
 * Pure: no Pulumi import.
 */
import { kubeadmRenderer } from "./kubeadm.documents";
import { ArgPairs } from "./kubeadm.model";

/** Extra arguments as v1beta2 and v1beta3 write them: flag (without dashes) -> value. */
export type ArgsMap = { [flag: string]: string };

/** The key algorithm as v1beta2 and v1beta3 write it: a feature gate for ECDSA P-256, nothing for RSA-2048. */
export type KeyAlgorithmGate = { featureGates?: { PublicKeysECDSA: true } };

/** Extra arguments as a map, in the given order; a flag given twice cannot be written and throws. */
export function argsAsMap(pairs: ArgPairs): ArgsMap {
  const out: ArgsMap = {};
  for (const [name, value] of pairs) {
    if (Object.prototype.hasOwnProperty.call(out, name)) {
      throw new Error(`kubeadm v1beta2 and v1beta3 take each extra argument once, got ${name} twice`);
    }
    out[name] = value;
  }
  return out;
}

/** kubeadm's name of the key algorithm -> the feature gate that makes kubeadm use it before v1beta4. */
export function keyAlgorithmAsFeatureGate(name: string): KeyAlgorithmGate {
  if (name === "ECDSA-P256") return { featureGates: { PublicKeysECDSA: true } };
  if (name === "RSA-2048") return {};
  throw new Error(`kubeadm before v1beta4 makes only RSA-2048 or ECDSA-P256 keys, got ${name}`);
}

/** How v1beta2 writes extra arguments and the key algorithm; v1beta3 writes them the same way. */
export const V1BETA2_FORMS = { args: argsAsMap, keyAlgorithm: keyAlgorithmAsFeatureGate };

/** kubeadm.k8s.io/v1beta2 documents (`build*`, typed) and files (`render*`). */
export const KUBEADM_V1BETA2 = kubeadmRenderer({ apiVersion: "kubeadm.k8s.io/v1beta2", ...V1BETA2_FORMS });
