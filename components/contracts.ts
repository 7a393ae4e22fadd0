/**
 * What one component relies on about another: the ports and paths where one answers and another asks.
 * Components share them through this file, never through each other's internals. Pure: no imports.
 */

/** kube-apiserver's secure port as kubeadm sets it (APIEndpoint.bindPort), and what clients expect of an endpoint. */
export const API_SERVER_PORT = 6443;
/** The API server's readiness endpoint: 200 once it serves, 500 while etcd or its informers are not ready. */
export const READYZ_PATH = "/readyz";
/**
 * The loopback HTTP port where a LoadBalancer's HAProxy answers GET {@link HAPROXY_HEALTH_PATH} while it
 * runs (kubespray's monitor-uri idea): what a KeepalivedVip with the haproxy health check asks.
 */
export const HAPROXY_HEALTH_PORT = 8404;
export const HAPROXY_HEALTH_PATH = "/healthz";
