/**
 * kubeadm's configuration, API version kubeadm.k8s.io/v1beta3: what kubeadm 1.22 to 1.30 read (v1beta4
 * replaces it from 1.31). Its types: kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta3/
 * (tests/fixtures/kubeadm-api/v1beta3.json). For the fields hakube writes it is v1beta2 under a new
 * apiVersion: extra arguments are maps and ECDSA P-256 keys come from the PublicKeysECDSA feature gate
 * (see kubeadm.v1beta2.ts). What v1beta3 added (skipPhases, patches, nodeRegistration.imagePullPolicy) and
 * removed (useHyperKubeImage, dns.type) is neither written nor needed. Pure: no Pulumi import.
 */
import { kubeadmRenderer } from "./kubeadm.documents";
import { V1BETA2_FORMS } from "./kubeadm.v1beta2";

/** kubeadm.k8s.io/v1beta3 documents (`build*`, typed) and files (`render*`). */
export const KUBEADM_V1BETA3 = kubeadmRenderer({ apiVersion: "kubeadm.k8s.io/v1beta3", ...V1BETA2_FORMS });
